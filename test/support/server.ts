import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PATIENCE_MS } from "./patience.ts";

const BIN = resolve(import.meta.dirname, "../../bin/tollgate.js");

const canListen = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer()
      .once("error", () => done(false))
      .listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });

/**
 * Linux hands out ports from 32768 up to every outgoing connection: a port found free there may
 * be a neighbour test's connection by the time a server listens on it (CI saw EADDRINUSE). Ports
 * for servers the tests start are taken below that range instead, at random, checked free.
 */
const LOW_PORTS = { from: 20_000, count: 12_000 };

/** A free port for a server a test starts (below the ephemeral range; see LOW_PORTS). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOW_PORTS.from + Math.floor(Math.random() * LOW_PORTS.count);
    if (await canListen(port)) return port;
  }
}

/** A port for `tollgate serve` whose next port is free too: the local Stripe listens on PORT+1. */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (await canListen(port + 1)) return port;
  }
}

export interface RunningServer {
  url: string;
  dir: string;
  /** The server process's id (memory readings, kill -9). */
  pid: number;
  env: Record<string, string>;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Waits until the process started at `url` answers /readyz; one that exits first, or stays
 * silent past the tests' patience (then killed), fails with what it printed.
 */
export async function untilReady(
  child: ChildProcess,
  url: string,
  output: () => string,
  what: string,
): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited early:\n${output()}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {}
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `${what} did not answer /readyz in ${PATIENCE_MS / 1000} s; it printed:\n${output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `tollgate serve` as its own process in a fresh folder and waits until /readyz answers. */
export async function startServer(
  args: string[] = [],
  env: Record<string, string> = {},
  /** Restart in this folder (same database, files and secrets); env.PORT keeps the address. */
  existingDir?: string,
): Promise<RunningServer> {
  const dir = existingDir ?? mkdtempSync(join(tmpdir(), "tollgate-e2e-"));
  const port = env.PORT ? Number(env.PORT) : await freePortPair();
  const fullEnv = {
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: `sqlite:${join(dir, "data/tollgate.db")}`,
    STORAGE_URL: `file:${join(dir, "data/files")}`,
    ...env,
  };
  const child: ChildProcess = spawn(process.execPath, [BIN, "serve", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ...fullEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = fullEnv.PUBLIC_URL;
  await untilReady(child, url, () => output, "server");
  return {
    url,
    dir,
    pid: child.pid as number,
    env: fullEnv,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
  };
}
