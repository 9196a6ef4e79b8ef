/**
 * Runs the real Worker bundle (npm run build:worker) in workerd through Miniflare, with the
 * bindings wrangler.jsonc declares: R2 in memory, Hyperdrive in front of a real Postgres.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import pg from "pg";
import { buildWorker, type WorkerBundle } from "../../scripts/build-worker.ts";
import type { R2Bucket } from "../../src/adapters/storage-r2/index.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { openPostgres } from "../../src/db/postgres.ts";
import { freePort } from "../support/server.ts";

interface WranglerConfig {
  main: string;
  assets: { directory: string };
  compatibility_date: string;
  compatibility_flags: string[];
  hyperdrive: { binding: string }[];
  r2_buckets: { binding: string; bucket_name: string }[];
  triggers: { crons: string[] };
  vars: Record<string, string>;
}

/** wrangler.jsonc as wrangler reads it: JSON with comments. */
export function readWrangler(): WranglerConfig {
  const text = readFileSync(resolve(import.meta.dirname, "../../wrangler.jsonc"), "utf8");
  // Drop // comments outside strings (URLs in strings keep their //).
  const json = text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*/g, (_, string) => string ?? "");
  return JSON.parse(json) as WranglerConfig;
}

let bundle: Promise<WorkerBundle> | null = null;

/** The bundle, built once per test file into a folder of its own. */
export function workerBundle(): Promise<WorkerBundle> {
  bundle ??= buildWorker(join(mkdtempSync(join(tmpdir(), "tollgate-worker-")), "index.js"));
  return bundle;
}

export interface RunningWorker {
  mf: Miniflare;
  url: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Fires one of wrangler.jsonc's Cron Triggers as Cloudflare would (by its schedule). */
  scheduled(cron: string): Promise<{ outcome: string }>;
  /** The Worker's R2 bucket, as the Worker sees it. */
  bucket(): Promise<R2Bucket>;
  close(): Promise<void>;
}

/**
 * Starts the bundle on workerd with wrangler.jsonc's compatibility settings and bindings: the
 * R2 bucket (in memory) and Hyperdrive pointed at `databaseUrl`. `vars` are the vars and secrets.
 */
export async function startWorker(opts: {
  vars: Record<string, string>;
  databaseUrl: string;
  port?: number;
}): Promise<RunningWorker> {
  const wrangler = readWrangler();
  const { file, assets } = await workerBundle();
  quietHyperdriveProxy(opts.databaseUrl);
  const port = opts.port ?? (await freePort());
  const mf = new Miniflare({
    modules: true,
    scriptPath: file,
    modulesRoot: dirname(file),
    // The lazy chunks (`import()`: the PDF library) are ES modules, as wrangler.jsonc's rule says.
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
    compatibilityDate: wrangler.compatibility_date,
    compatibilityFlags: wrangler.compatibility_flags,
    r2Buckets: Object.fromEntries(wrangler.r2_buckets.map((b) => [b.binding, b.bucket_name])),
    hyperdrives: Object.fromEntries(
      wrangler.hyperdrive.map((h) => [h.binding, withPassword(opts.databaseUrl)]),
    ),
    bindings: opts.vars,
    // The static assets Cloudflare serves before the Worker runs (the API reference), with the
    // headers of their _headers file, which wrangler reads and Miniflare does not.
    assets: {
      directory: assets,
      routerConfig: { has_user_worker: true },
      assetConfig: { headers: { version: 2, rules: readHeadersFile(join(assets, "_headers")) } },
    },
    port,
    host: "127.0.0.1",
  });
  const url = (await mf.ready).origin;
  const R2_BINDING = wrangler.r2_buckets[0]?.binding as string;
  return {
    mf,
    url,
    fetch: (path, init = {}) => fetch(new URL(path, url), { redirect: "manual", ...init }),
    async scheduled(cron) {
      if (!wrangler.triggers.crons.includes(cron))
        throw new Error(`wrangler.jsonc has no Cron Trigger "${cron}"`);
      // Miniflare's types name @cloudflare/workers-types, which this project does not install.
      const worker = (await mf.getWorker()) as unknown as {
        scheduled(event: { scheduledTime: Date; cron: string }): Promise<{ outcome: string }>;
      };
      return worker.scheduled({ scheduledTime: new Date(), cron });
    },
    bucket: async () => (await mf.getR2Bucket(R2_BINDING)) as unknown as R2Bucket,
    close: () => mf.dispose(),
  };
}

/** Cloudflare's _headers file as wrangler hands it on: each path's headers to set. */
function readHeadersFile(file: string): Record<string, { set: Record<string, string> }> {
  const rules: Record<string, { set: Record<string, string> }> = {};
  let current: Record<string, string> | null = null;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      current = {};
      rules[line.trim()] = { set: current };
      continue;
    }
    const colon = line.indexOf(":");
    if (!current || colon < 0) throw new Error(`${file}: cannot read "${line}"`);
    current[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return rules;
}

/** Miniflare refuses a Hyperdrive origin without a password; the local Postgres trusts anyone. */
function withPassword(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (!url.password) url.password = "unused";
  return url.toString();
}

const origins = new Set<string>();
let quieted = false;
/**
 * Miniflare's local Hyperdrive relays each connection between two Node sockets that have no
 * error listener, and pg on Workers closes its socket without waiting for Postgres's goodbye:
 * a reset on either side would then crash this test process. Those sockets get a listener: the
 * ones Miniflare accepts from workerd, and the ones it opens to a Hyperdrive origin.
 */
function quietHyperdriveProxy(databaseUrl: string): void {
  const { hostname, port } = new URL(databaseUrl);
  origins.add(`${hostname}:${port || "5432"}`);
  if (quieted) return;
  quieted = true;
  const ignore = () => {};
  const createServer = net.createServer;
  net.createServer = ((...args: Parameters<typeof net.createServer>) => {
    const server = createServer(...args);
    server.on("connection", (socket) => socket.on("error", ignore));
    return server;
  }) as typeof net.createServer;
  const connect = net.connect;
  net.connect = ((...args: Parameters<typeof net.connect>) => {
    const socket = connect(...(args as unknown as [net.NetConnectOpts]));
    const [options] = args as unknown as [{ host?: string; port?: number | string }];
    if (typeof options === "object" && origins.has(`${options.host}:${options.port}`))
      socket.on("error", ignore);
    return socket;
  }) as typeof net.connect;
}

export interface WorkerDatabase {
  url: string;
  query<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own (not a schema: Hyperdrive passes no search_path), on
 * the server TEST_DATABASE_URL names. Workers do not migrate; `tollgate migrate` does.
 */
export async function freshWorkerDatabase(base: string): Promise<WorkerDatabase> {
  const name = `tollgate_w_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = openPostgres({ connectionString: url.toString() });
  await migrateToLatest(db, "postgres");
  await db.destroy();
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    url: url.toString(),
    query: async (text, values) => (await client.query(text, values)).rows,
    async drop() {
      await client.end();
      const dropper = new pg.Client({ connectionString: base });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}
