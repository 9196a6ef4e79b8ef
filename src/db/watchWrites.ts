import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from "kysely";

export interface WriteWatch {
  /** Whether this statement changes something the watcher cares about (given its SQL text). */
  matters(sql: string): boolean;
  /** Called once such a change is visible to every connection: after its commit. */
  changed(): void;
}

/**
 * The dialect with every statement seen: a write that `watch.matters` is reported once it is
 * committed (at once outside a transaction, at the commit inside one), so a cache that forgets
 * on `changed()` never keeps what an earlier read saw. It is the one place every query of this
 * process passes, whichever code wrote it (the read cache, core/readCache.ts, relies on that).
 */
export function watchWrites(dialect: Dialect, watch: WriteWatch): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new WatchingDriver(dialect.createDriver(), watch),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class WatchingDriver implements Driver {
  readonly #inner: Driver;
  readonly #watch: WriteWatch;
  readonly #watched = new WeakMap<DatabaseConnection, DatabaseConnection>();
  /** Connections inside a transaction, and whether it wrote something that matters. */
  readonly #open = new WeakMap<DatabaseConnection, { wrote: boolean }>();

  constructor(inner: Driver, watch: WriteWatch) {
    this.#inner = inner;
    this.#watch = watch;
    // Savepoints only where the driver has them: Kysely asks whether the methods exist.
    for (const name of ["savepoint", "rollbackToSavepoint", "releaseSavepoint"] as const) {
      const method = inner[name];
      if (method) this[name] = method.bind(inner);
    }
  }

  savepoint?: Driver["savepoint"];
  rollbackToSavepoint?: Driver["rollbackToSavepoint"];
  releaseSavepoint?: Driver["releaseSavepoint"];

  init() {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    let watched = this.#watched.get(connection);
    if (!watched) {
      watched = this.#watchConnection(connection);
      this.#watched.set(connection, watched);
    }
    return watched;
  }

  /** The same connection (drivers keep private state on it, so methods stay bound to it). */
  #watchConnection(connection: DatabaseConnection): DatabaseConnection {
    const executeQuery = async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      const result = await connection.executeQuery<R>(query);
      if (this.#watch.matters(query.sql)) {
        const transaction = this.#open.get(watched);
        if (transaction) transaction.wrote = true;
        else this.#watch.changed();
      }
      return result;
    };
    const watched: DatabaseConnection = new Proxy(connection, {
      get(target, property) {
        if (property === "executeQuery") return executeQuery;
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return watched;
  }

  async beginTransaction(
    connection: DatabaseConnection,
    settings: Parameters<Driver["beginTransaction"]>[1],
  ) {
    await this.#inner.beginTransaction(connection, settings);
    this.#open.set(connection, { wrote: false });
  }

  async commitTransaction(connection: DatabaseConnection) {
    const wrote = this.#open.get(connection)?.wrote;
    this.#open.delete(connection);
    try {
      await this.#inner.commitTransaction(connection);
    } finally {
      if (wrote) this.#watch.changed();
    }
  }

  async rollbackTransaction(connection: DatabaseConnection) {
    this.#open.delete(connection);
    await this.#inner.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection) {
    return this.#inner.releaseConnection(connection);
  }

  destroy() {
    return this.#inner.destroy();
  }
}
