import { createHash } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";
import { type WriteWatch, watchWrites } from "./watchWrites.ts";

export interface PostgresOptions {
  connectionString: string;
  poolMax?: number;
  statementTimeoutMs?: number;
  /** Run in this schema (tests give every suite its own). */
  schema?: string;
  /** Named prepared statements (the default): each distinct query parsed once per connection. */
  preparedStatements?: boolean;
  /** Told of every committed write it cares about (the read cache's invalidation). */
  watch?: WriteWatch;
}

const INT8_OID = 20;
// bigint columns hold epoch milliseconds and byte sizes, all far below 2^53.
export const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== "binary"
      ? Number
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

export function openPostgres(opts: PostgresOptions): Kysely<Database> {
  const settings: string[] = [];
  if (opts.statementTimeoutMs) settings.push(`-c statement_timeout=${opts.statementTimeoutMs}`);
  if (opts.schema) settings.push(`-c search_path=${opts.schema}`);
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.poolMax ?? 10,
    types,
    ...(settings.length ? { options: settings.join(" ") } : {}),
  });
  // A client losing its connection (database restart, network cut) must not crash the process.
  // Idle ones are reported here; one checked out by a query or transaction emits the error on
  // itself, where pg throws it at the process unless someone listens. That query fails with
  // the same error, and the pool drops the broken client when it is released.
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
    if (opts.preparedStatements !== false) prepareOnce(client);
  });
  const dialect = new PostgresDialect({ pool });
  return new Kysely<Database>({ dialect: opts.watch ? watchWrites(dialect, opts.watch) : dialect });
}

/** Queries worth preparing: plain statements, never DDL or transaction control. */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const names = new Map<string, string>();

/**
 * Sends each distinct query as a named prepared statement, so Postgres parses and plans it once
 * per connection instead of on every call (on two shared cores, its parse and plan showed in
 * every profile). The app's queries are a bounded set of texts (values are always parameters);
 * the name is a hash of the text.
 */
function prepareOnce(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, values?: unknown) => {
    if (typeof text !== "string" || !PREPARABLE.test(text) || typeof values === "function")
      return values === undefined ? query(text) : query(text, values);
    let name = names.get(text);
    if (!name) {
      name = `q${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
      if (names.size < 10_000) names.set(text, name);
    }
    return query({ name, text, values });
  }) as typeof client.query;
}
