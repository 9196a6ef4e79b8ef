import { type Kysely, sql } from "kysely";

// A receipt the recipient's mail server refused for good (SMTP 5xx on the address, a mail API's
// invalid or suppressed recipient) is recorded as bounced, with the reason and the time: it is not
// retried, and the seller sees it on the order and the dashboard.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("orders").addColumn("receipt_bounced_at", "bigint").execute();
  await db.schema.alterTable("orders").addColumn("receipt_bounce_reason", "text").execute();
  // The dashboard lists the latest bounces: few rows, so a partial index keeps that cheap.
  await db.schema
    .createIndex("orders_receipt_bounced")
    .on("orders")
    .column("receipt_bounced_at")
    .where(sql.ref("receipt_bounced_at"), "is not", null)
    .execute();
}
