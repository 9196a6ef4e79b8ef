import type { Kysely } from "kysely";

// Bounced receipts (issue 18, decision 0024). email_corrections: the paying browser's request to
// move a purchase whose receipt bounced to another address. It stays pending until that address
// signs in (the sign-in link mailed to it), is then used once, or is replaced by a later request
// for the same order. receipt_bounce_alerts: one row per bounce the seller was alerted of, so each
// bounce is told once, whichever process notices it.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("email_corrections")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("order_id", "text", (c) => c.notNull().references("orders.id").onDelete("cascade"))
    .addColumn("old_email", "text")
    .addColumn("new_email", "text", (c) => c.notNull())
    // pending, used, replaced
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("bounced_at", "bigint")
    .addColumn("bounce_reason", "text")
    .addColumn("user_id", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema
    .createIndex("email_corrections_new_email")
    .on("email_corrections")
    .columns(["new_email", "status"])
    .execute();
  await db.schema
    .createIndex("email_corrections_order")
    .on("email_corrections")
    .columns(["order_id", "created_at"])
    .execute();

  await db.schema
    .createTable("receipt_bounce_alerts")
    .addColumn("order_id", "text", (c) => c.notNull().references("orders.id").onDelete("cascade"))
    .addColumn("bounced_at", "bigint", (c) => c.notNull())
    .addColumn("alerted_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("receipt_bounce_alerts_pk", ["order_id", "bounced_at"])
    .execute();
}
