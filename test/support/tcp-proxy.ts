import { connect, createServer, type Socket } from "node:net";

export type ProxyMode = "open" | "refuse" | "hang";

/**
 * A TCP proxy on 127.0.0.1 in front of a real service (Postgres, S3, Stripe), so a test can make
 * that service unreachable for the app without stopping it for anyone else:
 * - `cut()`: new connections are closed as soon as they arrive and open ones are destroyed
 *   (the service went down);
 * - `hang()`: new connections are accepted and never answered (a black hole: a firewall, a dead
 *   host), and open ones are destroyed;
 * - `restore()`: connections go through again.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let mode: ProxyMode = "open";
  const open = new Set<Socket>();
  let accepted = 0;

  const server = createServer((client) => {
    accepted++;
    client.on("error", () => {});
    if (mode === "refuse") return void client.destroy();
    open.add(client);
    client.once("close", () => open.delete(client));
    if (mode === "hang") return;
    const upstream = connect(target.port, target.host);
    open.add(upstream);
    upstream.once("close", () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.once("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };

  const dropAll = () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };

  return {
    host: "127.0.0.1",
    port,
    /** Connections accepted so far, in any mode. */
    accepted: () => accepted,
    mode: () => mode,
    cut() {
      mode = "refuse";
      dropAll();
    },
    hang() {
      mode = "hang";
      dropAll();
    },
    restore() {
      // Hung connections were never answered: close them so their clients can retry.
      if (mode !== "open") dropAll();
      mode = "open";
    },
    async close() {
      dropAll();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;

/** The same URL, through the proxy: its host and port replaced. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = proxy.host;
  u.port = String(proxy.port);
  return u.toString();
}
