import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { groupCommit } from "../../src/db/groupCommit.ts";
import { openPostgres } from "../../src/db/postgres.ts";
import type { Db, Trx } from "../../src/db/schema.ts";
import { openSqlite } from "../../src/db/sqlite.ts";
import { dialects, freshDatabase, type TestDatabase } from "../support/databases.ts";

/** Group commit (DESIGN section 12): concurrent small transactions share one commit. */
describe.each(dialects)("group commit on %s", (dialect) => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await freshDatabase(dialect);
    const { url } = parseConfig({ DATABASE_URL: database.url }).database;
    db =
      dialect === "sqlite"
        ? openSqlite(url.slice("sqlite:".length))
        : openPostgres({ connectionString: url, poolMax: 4 });
    await sql`create table probe (id varchar(40) primary key, batch varchar(40) not null)`.execute(
      db,
    );
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });

  const insert = (trx: Trx, id: string, batch: string) =>
    sql`insert into probe (id, batch) values (${id}, ${batch})`.execute(trx);
  const seen = async (trx: Trx, batch: string) =>
    Number(
      (
        await sql<{ n: number }>`select count(*) as n from probe where batch = ${batch}`.execute(
          trx,
        )
      ).rows[0]?.n,
    );
  const committed = async (batch: string) =>
    (
      await sql<{ id: string }>`select id from probe where batch = ${batch} order by id`.execute(db)
    ).rows.map((r) => r.id);

  it("runs concurrent work in one transaction and answers each caller after it commits", async () => {
    const commits = groupCommit(db);
    const ids = Array.from({ length: 20 }, (_, i) => `shared-${String(i).padStart(2, "0")}`);
    const results = await Promise.all(
      ids.map((id) =>
        commits.run(async (trx) => {
          await insert(trx, id, "shared");
          return seen(trx, "shared");
        }),
      ),
    );
    // The last of them saw every row written before it: they were in one transaction.
    expect(Math.max(...results)).toBe(20);
    expect(await committed("shared")).toEqual(ids);
  });

  it("a work that throws fails alone: its writes are undone, the others' are committed", async () => {
    const commits = groupCommit(db);
    const outcomes = await Promise.allSettled(
      ["a", "b", "bad", "c"].map((name) =>
        commits.run(async (trx) => {
          await insert(trx, `mixed-${name}`, "mixed");
          if (name === "bad") throw new Error("this one fails");
          return name;
        }),
      ),
    );
    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : String(o.reason)))).toEqual([
      "a",
      "b",
      "Error: this one fails",
      "c",
    ]);
    expect(await committed("mixed")).toEqual(["mixed-a", "mixed-b", "mixed-c"]);
  });

  it("a database error (a duplicate key) fails only the work that caused it", async () => {
    const commits = groupCommit(db);
    const outcomes = await Promise.allSettled(
      ["dup-1", "dup-1", "dup-2"].map((id) => commits.run((trx) => insert(trx, id, "dup"))),
    );
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect(await committed("dup")).toEqual(["dup-1", "dup-2"]);
  });
});
