import { sql } from "kysely";
import type { Db, Trx } from "./schema.ts";

/**
 * A transaction whose commit does not wait for the disk: SQLite's `synchronous = NORMAL` (in WAL
 * mode the commit is on disk by the next checkpoint or the next full commit), Postgres's
 * `synchronous_commit = off`. A crash may lose it, and only it: every other commit still waits
 * for the disk, and a later one carries this one with it. For writes whose loss the docs accept
 * (the download log, decision 0010), never for money or access.
 */
export async function relaxedTransaction(
  db: Db,
  dialect: "sqlite" | "postgres",
  work: (trx: Trx) => Promise<void>,
): Promise<void> {
  if (dialect === "postgres") {
    await db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      await work(trx);
    });
    return;
  }
  // SQLite has one connection: holding it keeps every other query out until FULL is back.
  await db.connection().execute(async (connection) => {
    await sql`pragma synchronous = normal`.execute(connection);
    try {
      await connection.transaction().execute(work);
    } finally {
      await sql`pragma synchronous = full`.execute(connection);
    }
  });
}
