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
  pool.on("connect", (client) => client.on("error", () => {}));
  const dialect = new PostgresDialect({ pool });
  return new Kysely<Database>({ dialect: opts.watch ? watchWrites(dialect, opts.watch) : dialect });
}
