import type { Kysely } from "kysely";

// The seller pages list orders, webhook events and download links newest first.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("orders_created").on("orders").column("created_at").execute();
  await db.schema
    .createIndex("webhook_events_received")
    .on("webhook_events")
    .column("received_at")
    .execute();
  await db.schema
    .createIndex("delivery_tokens_created")
    .on("delivery_tokens")
    .column("created_at")
    .execute();
}
