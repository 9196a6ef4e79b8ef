/** What every benchmark needs: options, a fresh database, the shop's environment, a server. */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { S3TestServer } from "../test/support/s3-server.ts";
import { ADMIN_TOKEN, Shop } from "./fixtures.ts";
import { type BenchServer, startBenchServer } from "./processes.ts";

export type Dialect = "sqlite" | "postgres";

export interface Options {
  quick: boolean;
  /** Temporary folder of this run (databases, files, server logs). */
  dir: string;
  postgresUrl: string;
  /** Write a CPU profile of the server during each measured run of the app here (`--profile`). */
  profileDir?: string;
  /** Run only benchmarks whose name contains one of these (`--only downloads,webhooks`). */
  only: string[];
}

export const WEBHOOK_SECRET = "whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OQ";

export interface Database {
  dialect: Dialect;
  url: string;
  drop(): Promise<void>;
}

/** A fresh SQLite file, or a fresh schema of its own in the Postgres database. */
export async function freshDatabase(dialect: Dialect, opts: Options): Promise<Database> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(opts.dir, "db-"));
    return { dialect, url: `sqlite:${join(dir, "bench.db")}`, drop: async () => {} };
  }
  const schema = `bench_${randomBytes(5).toString("hex")}`;
  await onPostgres(opts.postgresUrl, `create schema ${schema}`);
  const url = new URL(opts.postgresUrl);
  url.searchParams.set("options", `-c search_path=${schema}${process.env.BENCH_PG_OPTIONS ?? ""}`);
  return {
    dialect,
    url: url.toString(),
    drop: () => onPostgres(opts.postgresUrl, `drop schema ${schema} cascade`),
  };
}

async function onPostgres(url: string, query: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** Why Postgres cannot be used, or null when it can. */
export async function postgresUnavailable(url: string): Promise<string | null> {
  try {
    await onPostgres(url, "select 1");
    return null;
  } catch (error) {
    return `Postgres at ${url.replace(/\/\/[^@]*@/, "//")} is not reachable: ${String(error)}`;
  }
}

export type Storage = { kind: "local" } | { kind: "s3"; server: S3TestServer };

export function shopEnv(
  database: Database,
  storage: Storage,
  opts: Options,
  extra: Record<string, string> = {},
): Record<string, string> {
  const files: Record<string, string> =
    storage.kind === "local"
      ? { STORAGE_URL: `file:${mkdtempSync(join(opts.dir, "files-"))}` }
      : {
          STORAGE_URL: "s3://bucket",
          S3_ENDPOINT: storage.server.url,
          S3_REGION: storage.server.region,
          S3_ACCESS_KEY_ID: storage.server.accessKeyId,
          S3_SECRET_ACCESS_KEY: storage.server.secretAccessKey,
        };
  return {
    NODE_ENV: "production",
    DATABASE_URL: database.url,
    PUBLIC_URL: "http://shop.bench",
    SESSION_SECRET: "bench-session-secret-0123456789abcdefghij",
    ADMIN_TOKEN,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...files,
    ...extra,
  };
}

/** Starts the bench server for one benchmark; its log is named after it. */
export async function startShop(
  name: string,
  env: Record<string, string>,
  opts: Options,
): Promise<{ server: BenchServer; shop: Shop }> {
  const server = await startBenchServer(env, { logFile: join(opts.dir, `${name}.log`) });
  return { server, shop: new Shop(server.url) };
}

/** Where `--profile` writes the profile of one measured run, or null without it. */
export const profileFile = (opts: Options, name: string) =>
  opts.profileDir ? join(opts.profileDir, `${name}.cpuprofile`) : null;
