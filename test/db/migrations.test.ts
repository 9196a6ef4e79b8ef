import { type Migration, Migrator, sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { migrateToLatest, migrations, pendingMigrations } from "../../src/db/migrate.ts";
import { openPostgres } from "../../src/db/postgres.ts";
import type { Db, OrdersTable } from "../../src/db/schema.ts";
import { openSqlite } from "../../src/db/sqlite.ts";
import { cli } from "../support/cli.ts";
import { dialects, freshDatabase, type TestDatabase } from "../support/databases.ts";

const ALL = Object.keys(migrations);

function open(database: TestDatabase): Db {
  const config = parseConfig({ DATABASE_URL: database.url });
  return database.dialect === "sqlite"
    ? openSqlite(config.database.url.slice("sqlite:".length))
    : openPostgres({ connectionString: config.database.url, poolMax: 2 });
}

describe.each(dialects)("migrations on %s", (dialect) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  it("create every table once; running again changes nothing", async () => {
    const database = await freshDatabase(dialect);
    const db = open(database);
    cleanup.push(
      () => database.drop(),
      () => db.destroy(),
    );
    expect(await pendingMigrations(db, dialect)).toEqual(ALL);
    expect(await migrateToLatest(db, dialect)).toEqual(ALL);
    expect(await migrateToLatest(db, dialect)).toEqual([]);
    expect(await pendingMigrations(db, dialect)).toEqual([]);
    // Other suites' schemas exist at the same time on Postgres: count this database's own.
    const own =
      dialect === "postgres"
        ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
            ?.schema
        : undefined;
    const tables = (await db.introspection.getTables())
      .filter((t) => own === undefined || t.schema === own)
      .map((t) => t.name)
      .sort();
    expect(tables).toEqual([
      "access_events",
      "assets",
      "delivery_tokens",
      "download_counts",
      "downloads",
      "email_corrections",
      "entitlements",
      "job_leases",
      "license_activations",
      "licenses",
      "login_tokens",
      "mail_unsubscribes",
      "orders",
      "outbox",
      "payment_failures",
      "pdf_stamps",
      "products",
      "provider_prices",
      "rate_limits",
      "receipt_bounce_alerts",
      "receipt_queue",
      "release_notices",
      "releases",
      "sessions",
      "sharing_flags",
      "sharing_signals",
      "shop_profile",
      "users",
      "webhook_deliveries",
      "webhook_endpoints",
      "webhook_events",
    ]);
  });

  it("several processes migrating at once apply each migration exactly once", async () => {
    const database = await freshDatabase(dialect);
    cleanup.push(() => database.drop());
    if (dialect === "postgres") {
      // Separate pools are separate sessions, as separate processes would be.
      const dbs = Array.from({ length: 4 }, () => open(database));
      cleanup.push(...dbs.map((db) => () => db.destroy()));
      const applied = await Promise.all(dbs.map((db) => migrateToLatest(db, dialect)));
      expect(applied.flat()).toEqual(ALL);
      return;
    }
    // better-sqlite3 blocks its thread while it waits for a lock, so SQLite needs real processes.
    const runs = await Promise.all(
      Array.from({ length: 3 }, () => cli(["migrate"], { DATABASE_URL: database.url })),
    );
    const outputs = runs.map((r) => r.stdout.trim()).sort();
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(outputs).toEqual([
      `Applied: ${ALL.join(", ")}`,
      "The database is up to date.",
      "The database is up to date.",
    ]);
  });

  it("cleans bidi controls out of file names stored before uploads dropped them", async () => {
    const database = await freshDatabase(dialect);
    const db = open(database);
    cleanup.push(
      () => database.drop(),
      () => db.destroy(),
    );
    const before = ALL.slice(0, ALL.indexOf("0006_clean_bidi_filenames"));
    const upTo = Object.fromEntries(before.map((name) => [name, migrations[name] as Migration]));
    const schema =
      dialect === "postgres"
        ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
            ?.schema
        : undefined;
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: async () => upTo },
      ...(schema ? { migrationTableSchema: schema } : {}),
    }).migrateToLatest();
    expect(error).toBeUndefined();
    await db
      .insertInto("products")
      .values({
        id: "prd_1",
        slug: "kit",
        name: "Kit",
        description: "",
        kind: "one_time",
        price_amount: 100,
        currency: "usd",
        interval: null,
        stripe_price_id: null,
        active: 1,
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    const asset = {
      product_id: "prd_1",
      size: 1,
      sha256: "x",
      version: 1,
      active: 1,
      created_at: 1,
    };
    await db
      .insertInto("assets")
      .values([
        {
          ...asset,
          id: "ast_1",
          filename: "invoice\u202efdp.exe",
          storage_key: "k1",
          content_type: "application/octet-stream",
        },
        {
          ...asset,
          id: "ast_2",
          filename: "plain guide.pdf",
          storage_key: "k2",
          content_type: "application/pdf",
        },
      ])
      .execute();
    expect(await migrateToLatest(db, dialect)).toContain("0006_clean_bidi_filenames");
    const names = await db.selectFrom("assets").select(["id", "filename"]).orderBy("id").execute();
    expect(names).toEqual([
      { id: "ast_1", filename: "invoicefdp.exe" },
      { id: "ast_2", filename: "plain guide.pdf" },
    ]);
  });

  it("moves the receipts the previous version left undelivered into the receipt queue", async () => {
    const database = await freshDatabase(dialect);
    const db = open(database);
    cleanup.push(
      () => database.drop(),
      () => db.destroy(),
    );
    const before = ALL.slice(0, ALL.indexOf("0007_receipt_queue"));
    const upTo = Object.fromEntries(before.map((name) => [name, migrations[name] as Migration]));
    const schema =
      dialect === "postgres"
        ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
            ?.schema
        : undefined;
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: async () => upTo },
      ...(schema ? { migrationTableSchema: schema } : {}),
    }).migrateToLatest();
    expect(error).toBeUndefined();
    await db
      .insertInto("products")
      .values({
        id: "prd_1",
        slug: "kit",
        name: "Kit",
        description: "",
        kind: "one_time",
        price_amount: 100,
        currency: "usd",
        interval: null,
        stripe_price_id: null,
        active: 1,
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    const now = Date.now();
    // An order as the table was before 0007 (later migrations add columns).
    type OldOrder = Omit<
      OrdersTable,
      | "receipt_url"
      | "receipt_url_at"
      | "paid_at"
      | "receipt_alerted_at"
      | "download_reminded_at"
      | "download_reminder_lease"
      | "amount_minimum"
      | "price_id"
      | "amount_discount"
      | "amount_tax"
      | "amount_total"
      | "tax_ids"
      | "buyer_country"
      | "invoice_id"
    >;
    const order = (id: string, changes: Partial<OldOrder>): OldOrder => ({
      id,
      product_id: "prd_1",
      checkout_session_id: null,
      payment_intent_id: null,
      subscription_id: null,
      customer_id: null,
      email: `${id}@example.com`,
      user_id: null,
      amount: 100,
      currency: "usd",
      status: "paid",
      flag: null,
      receipt_sent_at: null,
      receipt_delivered_at: null,
      receipt_bounced_at: null,
      receipt_bounce_reason: null,
      created_at: now - 3600_000,
      updated_at: now - 3600_000,
      ...changes,
    });
    await db
      .insertInto("orders")
      .values([
        // Failed and released: sent at once. Claimed by a process that died: after 10 minutes.
        order("released", {}),
        order("claimed", { receipt_sent_at: now - 60_000 }),
        // Delivered, bounced, too old, unpaid: not queued.
        order("delivered", { receipt_sent_at: now - 60_000, receipt_delivered_at: now - 59_000 }),
        order("bounced", { receipt_bounced_at: now - 60_000, receipt_bounce_reason: "550" }),
        order("old", { updated_at: now - 25 * 3600_000 }),
        order("pending", { status: "pending" }),
      ])
      .execute();
    expect(await migrateToLatest(db, dialect)).toEqual([
      "0007_receipt_queue",
      ...ALL.slice(ALL.indexOf("0007_receipt_queue") + 1),
    ]);
    const queued = await db
      .selectFrom("receipt_queue")
      .select(["order_id", "due_at", "lease_until"])
      .orderBy("order_id")
      .execute();
    expect(queued.map((q) => q.order_id)).toEqual(["claimed", "released"]);
    const [claimed, released] = queued;
    expect(claimed?.due_at).toBe(now - 60_000 + 600_000);
    expect(released?.due_at).toBeGreaterThanOrEqual(now);
    expect(queued.every((q) => q.lease_until === null)).toBe(true);
  });

  it("stores epoch-millisecond times and large sizes as exact numbers", async () => {
    const database = await freshDatabase(dialect);
    const db = open(database);
    cleanup.push(
      () => database.drop(),
      () => db.destroy(),
    );
    await migrateToLatest(db, dialect);
    await db
      .insertInto("users")
      .values({ id: "u1", email: "a@b.co", created_at: 1_795_000_000_123 })
      .execute();
    const row = await db.selectFrom("users").selectAll().executeTakeFirstOrThrow();
    expect(row.created_at).toBe(1_795_000_000_123);
    const { rows } = await sql<{ v: number }>`select cast(${5 * 1024 ** 3} as bigint) as v`.execute(
      db,
    );
    expect(Number(rows[0]?.v)).toBe(5 * 1024 ** 3);
  });
});
