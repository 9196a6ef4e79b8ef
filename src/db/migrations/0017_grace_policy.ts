import type { Kysely } from "kysely";

// The grace policy (issue 18, point 6), per product: days of access kept after a subscription's
// payment failed (0: none, as before), whether a full refund takes access away (null: the shop's
// REFUND_REVOKES_ACCESS decides, as before) and whether an opened dispute suspends it (1, as
// before). The defaults keep every product as it was.
//
// payment_failures: one row per failed invoice, written in the event's transaction: it makes
// the grace start once per invoice, however often Stripe retries the payment or redelivers the
// event, and queues the one mail asking the buyer to fix their card (sent after the commit under
// a lease, like the receipt queue).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("products")
    .addColumn("grace_past_due_days", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("products").addColumn("grace_refund_revokes", "integer").execute();
  await db.schema
    .alterTable("products")
    .addColumn("grace_dispute_suspends", "integer", (c) => c.notNull().defaultTo(1))
    .execute();

  await db.schema
    .createTable("payment_failures")
    .addColumn("invoice_id", "text", (c) => c.primaryKey())
    .addColumn("order_id", "text", (c) => c.notNull().references("orders.id").onDelete("cascade"))
    .addColumn("failed_at", "bigint", (c) => c.notNull())
    // Access lasts at least until then (the failure's time plus the product's grace).
    .addColumn("grace_until", "bigint", (c) => c.notNull())
    // The invoice's page at the provider, where the buyer pays it with another card.
    .addColumn("invoice_url", "text")
    // The invoice was paid after all: the mail, if not sent yet, is not sent any more.
    .addColumn("paid_at", "bigint")
    // The mail: due then (null: nothing to send), held by a sender until lease_until.
    .addColumn("mail_due_at", "bigint")
    .addColumn("mail_lease_until", "bigint")
    .addColumn("mail_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("mail_error", "text")
    .addColumn("mailed_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("payment_failures_mail_due")
    .on("payment_failures")
    .column("mail_due_at")
    .execute();
  await db.schema
    .createIndex("payment_failures_order")
    .on("payment_failures")
    .column("order_id")
    .execute();
}
