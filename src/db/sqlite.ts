import BetterSqlite3 from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  Kysely,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from "kysely";
import type { Database } from "./schema.ts";
import { checkpointInBackground } from "./sqliteCheckpoints.ts";
import { type WriteWatch, watchWrites } from "./watchWrites.ts";

/**
 * SQLite through better-sqlite3. WAL with synchronous=FULL: a webhook answered 2xx is on disk.
 * Write transactions begin IMMEDIATE so two processes (server and CLI) never deadlock upgrading
 * a read lock, and the busy timeout lets them queue instead of failing. With
 * `checkpointsOffLoop`, a worker thread checkpoints the log instead of the commits
 * (db/sqliteCheckpoints.ts); destroying the Kysely instance stops it.
 */
export function openSqlite(
  filename: string,
  opts: { watch?: WriteWatch; checkpointsOffLoop?: { onFailure: (error: Error) => void } } = {},
): Kysely<Database> {
  const raw = new BetterSqlite3(filename);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = FULL");
  raw.pragma("foreign_keys = ON");
  raw.pragma("busy_timeout = 5000");
  const checkpoints =
    opts.checkpointsOffLoop && filename !== ":memory:"
      ? checkpointInBackground(
          filename,
          (pages) => raw.pragma(`wal_autocheckpoint = ${pages}`),
          opts.checkpointsOffLoop.onFailure,
        )
      : null;
  const dialect = new ImmediateSqliteDialect(withStatementCache(raw), () => checkpoints?.stop());
  return new Kysely<Database>({ dialect: opts.watch ? watchWrites(dialect, opts.watch) : dialect });
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: BetterSqlite3.Database;
  readonly #beforeClose: () => Promise<void> | undefined;
  constructor(database: BetterSqlite3.Database, beforeClose: () => Promise<void> | undefined) {
    super({ database });
    this.#database = database;
    this.#beforeClose = beforeClose;
  }
  override createDriver() {
    return new ImmediateSqliteDriver({ database: this.#database }, this.#beforeClose);
  }
  /** SQLite does run DDL in transactions; saying so makes each migration run inside BEGIN IMMEDIATE,
   * which is what keeps two processes from migrating at once. */
  override createAdapter(): DialectAdapter {
    return Object.create(super.createAdapter(), { supportsTransactionalDdl: { get: () => true } });
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #beforeClose: () => Promise<void> | undefined;
  constructor(config: SqliteDialectConfig, beforeClose: () => Promise<void> | undefined) {
    super(config);
    this.#beforeClose = beforeClose;
  }
  override async destroy(): Promise<void> {
    await this.#beforeClose();
    await super.destroy();
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/** Kysely prepares every query anew; keep one prepared statement per distinct SQL text. */
function withStatementCache(raw: BetterSqlite3.Database): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = prepare(sql);
      if (cache.size < 500) cache.set(sql, stmt);
    }
    return stmt;
  }) as typeof raw.prepare;
  return raw;
}
