import type { Kysely } from "kysely";

// Receipts go out after the webhook is answered, from a queue written in the same transaction as
// the payment (decision 0011): a row per receipt still to send. A sender claims rows by setting
// lease_until (Postgres: FOR UPDATE SKIP LOCKED), sends, and deletes the row once the mailer took
// the mail or refused it for good; a row whose sender died is taken again once its lease is over.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("receipt_queue")
    .addColumn("order_id", "text", (c) =>
      c.primaryKey().references("orders.id").onDelete("cascade"),
    )
    // Not before this time (a failed try waits before the next).
    .addColumn("due_at", "bigint", (c) => c.notNull())
    // A sender holds the row until then; null when nobody does.
    .addColumn("lease_until", "bigint")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("receipt_queue_due").on("receipt_queue").column("due_at").execute();

  // Receipts the previous version claimed or released without delivering (a crash, a mail
  // outage) move into the queue; a claim younger than ten minutes may still be on its way, so it
  // waits for those ten minutes, as the old housekeeping did. Orders paid over a day ago are left
  // to the seller, as before.
  const now = Date.now();
  const undelivered = await db
    .selectFrom("orders")
    .select(["id", "receipt_sent_at"])
    .where("status", "=", "paid")
    .where("receipt_delivered_at", "is", null)
    .where("receipt_bounced_at", "is", null)
    .where("updated_at", ">=", now - 24 * 3600_000)
    .where((eb) => eb.or([eb("email", "is not", null), eb("user_id", "is not", null)]))
    .execute();
  for (const order of undelivered) {
    await db
      .insertInto("receipt_queue")
      .values({
        order_id: order.id,
        due_at: order.receipt_sent_at === null ? now : Number(order.receipt_sent_at) + 600_000,
        lease_until: null,
        attempts: 0,
        last_error: null,
        created_at: now,
      })
      .execute();
  }
}
