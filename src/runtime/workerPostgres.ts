import { AsyncLocalStorage } from "node:async_hooks";
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from "kysely";
import pg from "pg";
import { types } from "../db/postgres.ts";
import type { Database, Db } from "../db/schema.ts";
import { type WriteWatch, watchWrites } from "../db/watchWrites.ts";

/**
 * Postgres on Workers, through Hyperdrive. A Worker may not use a socket opened while serving
 * another request, and Hyperdrive keeps the real connections pooled at the edge, so connections
 * here live as long as one request (or one Cron run): `withConnections` opens a scope, the
 * queries inside it share its clients, and the scope closes them when it ends.
 */
/** Hyperdrive answers at once; a database that does not is down, and the request says so. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface WorkerPostgres {
  db: Db;
  /** Runs fn with its own connections, closed once fn's promise settles. */
  withConnections<T>(fn: () => Promise<T>): Promise<T>;
}

export function openWorkerPostgres(connectionString: string, watch?: WriteWatch): WorkerPostgres {
  const scopes = new AsyncLocalStorage<Scope>();
  const open = () => new Scope(connectionString);
  const pool: PostgresPool = {
    async connect() {
      const scope = scopes.getStore();
      // Outside a scope (work left running after the response): a client for this query alone.
      if (!scope || scope.closed) {
        const lone = open();
        const client = await lone.acquire();
        return {
          query: client.query,
          release: () => {
            client.release();
            void lone.close();
          },
        } as PostgresPoolClient;
      }
      return scope.acquire();
    },
    async end() {},
  };
  return {
    db: new Kysely<Database>({
      dialect: watch
        ? watchWrites(new PostgresDialect({ pool }), watch)
        : new PostgresDialect({ pool }),
    }),
    async withConnections(fn) {
      const scope = open();
      try {
        return await scopes.run(scope, fn);
      } finally {
        await scope.close();
      }
    },
  };
}

/**
 * The clients of one request: reused while it lasts, all ended when it is over. Closing waits
 * for queries still running (a failed Promise.all leaves its siblings going): the runtime would
 * otherwise cut their sockets when the request ends.
 */
class Scope {
  closed = false;
  readonly #idle: pg.Client[] = [];
  readonly #broken = new WeakSet<pg.Client>();
  #busy = 0;
  #settled: (() => void) | null = null;

  constructor(private readonly connectionString: string) {}

  async acquire(): Promise<PostgresPoolClient> {
    this.#busy++;
    let client = this.#idle.pop();
    if (!client) {
      const fresh = new pg.Client({
        connectionString: this.connectionString,
        types,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      // A lost connection is reported on the client; it is ended at release, never reused.
      fresh.on("error", () => this.#broken.add(fresh));
      try {
        await fresh.connect();
      } catch (error) {
        this.#done();
        throw error;
      }
      client = fresh;
    }
    const held = client;
    let released = false;
    return {
      query: held.query.bind(held) as PostgresPoolClient["query"],
      release: () => {
        if (released) return;
        released = true;
        if (this.closed || this.#broken.has(held)) void held.end().catch(() => {});
        else this.#idle.push(held);
        this.#done();
      },
    };
  }

  async close(): Promise<void> {
    if (this.#busy > 0)
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#settled = resolve;
        }),
        new Promise((resolve) => setTimeout(resolve, 10_000)),
      ]);
    this.closed = true;
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((client) => client.end().catch(() => {})));
  }

  #done() {
    this.#busy--;
    if (this.#busy === 0) this.#settled?.();
  }
}
