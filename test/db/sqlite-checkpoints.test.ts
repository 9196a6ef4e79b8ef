import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../src/db/sqlite.ts";
import { checkpointInBackground } from "../../src/db/sqliteCheckpoints.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/**
 * The server's SQLite connection leaves checkpoints to a worker thread: its commits never copy
 * the log into the database file on the event loop, the file still gets every row within
 * seconds, and should the worker die, the commits checkpoint again.
 */
describe("SQLite checkpoints off the event loop", () => {
  const freshFile = () => join(mkdtempSync(join(tmpdir(), "tollgate-ckpt-")), "shop.db");
  const size = (file: string) => statSync(file).size;
  const automatic = async (db: ReturnType<typeof openSqlite>) =>
    (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db)).rows[0]
      ?.wal_autocheckpoint;

  it("copies what the server's connection wrote into the database file, without its commits doing it", async () => {
    const file = freshFile();
    const failures: Error[] = [];
    const db = openSqlite(file, { checkpointsOffLoop: { onFailure: (e) => failures.push(e) } });
    expect(await automatic(db)).toBe(0);
    await sql`create table notes (id integer primary key, body text not null)`.execute(db);
    const before = size(file);
    // About 8 MiB of log: well past the 1,000 pages at which a commit would checkpoint itself.
    const body = "x".repeat(4000);
    for (let batch = 0; batch < 20; batch++)
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < 100; i++)
          await sql`insert into notes (body) values (${body})`.execute(trx);
      });
    await expect
      .poll(() => size(file), { timeout: PATIENCE_MS, interval: 100 })
      .toBeGreaterThan(before + 7_000_000);
    await db.destroy();
    expect(failures).toEqual([]);

    // Every row is in the file, as another process opening it sees.
    const again = openSqlite(file);
    const { rows } = await sql<{ n: number }>`select count(*) as n from notes`.execute(again);
    expect(rows[0]?.n).toBe(2000);
    await again.destroy();
  });

  it("turns the commits' own checkpoints back on, and says so, when the worker dies", async () => {
    const settings: number[] = [];
    const failures: Error[] = [];
    // A folder is no database: the worker fails as it starts.
    const checkpoints = checkpointInBackground(
      mkdtempSync(join(tmpdir(), "tollgate-ckpt-")),
      (pages) => settings.push(pages),
      (error) => failures.push(error),
    );
    await expect.poll(() => failures.length, { timeout: PATIENCE_MS }).toBe(1);
    await expect.poll(() => settings, { timeout: PATIENCE_MS }).toEqual([0, 1000]);
    await checkpoints.stop();
  });
});
