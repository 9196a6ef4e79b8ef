import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/adapters/log-console/index.ts";
import { startLocalStripe } from "../../src/local-stripe/index.ts";
import { freshDatabase, type TestDatabase } from "./databases.ts";
import { WEBHOOK_SECRET } from "./harness.ts";
import { freePort, type RunningServer, startServer } from "./server.ts";

/** The Postgres the multi-process tests use when TEST_DATABASE_URL is not set. */
export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export interface ServerProcesses {
  /** One base URL per process (http://127.0.0.1:<port>), in start order. */
  urls: string[];
  /** The processes themselves: pid, output(), stop(signal) (e.g. "SIGKILL" for a crash). */
  servers: RunningServer[];
  /** The one database every process shares (a fresh Postgres schema unless one was given). */
  database: TestDatabase;
  /** What every process got, on top of PORT and PUBLIC_URL (its own). */
  env: Record<string, string>;
  /** The shared ADMIN_TOKEN: `authorization: Bearer <adminToken>` on /api/admin. */
  adminToken: string;
  /** The shared local Stripe (null when env named a Stripe: STRIPE_API_URL or STRIPE_SECRET_KEY). */
  stripe: { url: string; close(): Promise<void> } | null;
  /** Every process's output so far, each line prefixed with `[i] `. */
  output(): string;
  /** Stops every process (SIGTERM, waits for exit), the local Stripe, and drops the database. */
  stop(): Promise<void>;
}

/**
 * Starts `count` real Tollgate server processes (`bin/tollgate.js serve`, what `npm start` runs,
 * without --demo), each on its own port on 127.0.0.1 and in its own folder, sharing one Postgres
 * database (a fresh schema of TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test),
 * one file store, one SESSION_SECRET and ADMIN_TOKEN, and one local Stripe whose webhooks go to
 * the first process (`webhookTo` picks another, `webhookUrl` any address). Returns when every process answers /readyz.
 * `env` is added to (and overrides) the shared environment; `database` reuses a database the test
 * made (and then stop() leaves it to the test to drop).
 */
export async function startServers(
  opts: {
    count?: number;
    env?: Record<string, string>;
    database?: TestDatabase;
    /** Index of the process the local Stripe sends its webhooks to (default 0). */
    webhookTo?: number;
    /** Or any URL: e.g. http://127.0.0.1:9/nowhere, so every webhook is missed. */
    webhookUrl?: string;
  } = {},
): Promise<ServerProcesses> {
  const count = opts.count ?? 2;
  const ownDatabase = !opts.database;
  if (ownDatabase && !process.env.TEST_DATABASE_URL)
    process.env.TEST_DATABASE_URL = DEFAULT_TEST_DATABASE_URL;
  const database = opts.database ?? (await freshDatabase("postgres"));
  const shared = mkdtempSync(join(tmpdir(), "tollgate-multi-"));
  const files = join(shared, "files");
  mkdirSync(files, { recursive: true });
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const adminToken = opts.env?.ADMIN_TOKEN ?? `tga_${randomBytes(24).toString("base64url")}`;
  let stripe: ServerProcesses["stripe"] = null;
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    STORAGE_URL: `file:${files}`,
    SESSION_SECRET: randomBytes(32).toString("hex"),
    ADMIN_TOKEN: adminToken,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    MAIL_URL: "outbox:",
    ...opts.env,
  };
  if (!env.STRIPE_API_URL && !env.STRIPE_SECRET_KEY) {
    stripe = await startLocalStripe({
      port: 0,
      stateFile: null,
      webhookUrl: opts.webhookUrl ?? `${urls[opts.webhookTo ?? 0]}/webhooks/stripe`,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET as string,
      log: silentLogger,
    });
    env.STRIPE_API_URL = stripe.url;
  }
  const started = await Promise.allSettled(
    ports.map((port, i) =>
      startServer(
        [],
        { ...env, PORT: String(port), PUBLIC_URL: urls[i] as string },
        mkdtempSync(join(shared, `p${i}-`)),
      ),
    ),
  );
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await stripe?.close();
    if (ownDatabase) await database.drop();
  };
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    urls,
    servers,
    database,
    env,
    adminToken,
    stripe,
    output: () =>
      servers
        .map((s, i) =>
          s
            .output()
            .split("\n")
            .filter(Boolean)
            .map((line) => `[${i}] ${line}`)
            .join("\n"),
        )
        .join("\n"),
    stop,
  };
}
