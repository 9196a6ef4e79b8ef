/**
 * Runs the real Worker bundle (npm run build:worker) in workerd through Miniflare, with the
 * bindings wrangler.jsonc declares: R2 in memory, Hyperdrive in front of a real Postgres.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { buildWorker, type WorkerBundle } from "../../scripts/build-worker.ts";
import { type LocalWorker, startLocalWorker } from "../../scripts/worker-local.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { openPostgres } from "../../src/db/postgres.ts";
import { freePort } from "../support/server.ts";

let bundle: Promise<WorkerBundle> | null = null;

/** The bundle, built once per test file into a folder of its own. */
export function workerBundle(): Promise<WorkerBundle> {
  bundle ??= buildWorker(join(mkdtempSync(join(tmpdir(), "tollgate-worker-")), "index.js"));
  return bundle;
}

export interface RunningWorker extends LocalWorker {
  fetch(path: string, init?: RequestInit): Promise<Response>;
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
  const worker = await startLocalWorker({
    bundle: await workerBundle(),
    vars: opts.vars,
    databaseUrl: opts.databaseUrl,
    port: opts.port ?? (await freePort()),
  });
  return {
    ...worker,
    fetch: (path, init = {}) => fetch(new URL(path, worker.url), { redirect: "manual", ...init }),
  };
}

export interface WorkerDatabase {
  url: string;
  query<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own (not a schema: Hyperdrive passes no search_path), on
 * the server TEST_DATABASE_URL names. Workers do not migrate; `tollgate migrate` does, and
 * `npm run dev:worker` on start (`migrate: false` leaves it empty for that).
 */
export async function freshWorkerDatabase(
  base: string,
  { migrate = true } = {},
): Promise<WorkerDatabase> {
  const name = `tollgate_w_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  if (migrate) {
    const db = openPostgres({ connectionString: url.toString() });
    await migrateToLatest(db, "postgres");
    await db.destroy();
  }
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

export { readWrangler } from "../../scripts/worker-local.ts";
