import { type Kysely, sql } from "kysely";

// The delivery watchdog (issue 18, decision 0023): when an order was paid, whether the seller was
// told that its receipt did not go out, and the one download reminder (claimed under a lease
// while it is mailed, then recorded as sent). Orders paid before this migration take their
// checkout's start as their payment time.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("orders").addColumn("paid_at", "bigint").execute();
  await db.schema.alterTable("orders").addColumn("receipt_alerted_at", "bigint").execute();
  await db.schema.alterTable("orders").addColumn("download_reminded_at", "bigint").execute();
  await db.schema.alterTable("orders").addColumn("download_reminder_lease", "bigint").execute();
  await db
    .updateTable("orders")
    .set({ paid_at: sql.ref("created_at") })
    .where("status", "in", ["paid", "refunded", "disputed"])
    .execute();
  // Whether an order was downloaded: its buyer's downloads of its product since payment.
  await db.schema
    .createIndex("downloads_entitlement_created")
    .on("downloads")
    .columns(["entitlement_id", "created_at"])
    .execute();
  // The watchdog's passes and the dashboard read paid orders by their payment time.
  await db.schema
    .createIndex("orders_paid_at")
    .on("orders")
    .column("paid_at")
    .where(sql.ref("paid_at"), "is not", null)
    .execute();
}
