import type { Kysely } from "kysely";

// Outgoing webhooks (issue 17, decision 0017): the seller's endpoints, and an outbox of
// deliveries written in the transaction of the change each tells of, one row per endpoint
// subscribed to its event type. A sender claims due rows under a lease (Postgres: FOR UPDATE
// SKIP LOCKED), posts them, and records the outcome on the row.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("webhook_endpoints")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("url", "text", (c) => c.notNull())
    // The event types it wants, as a JSON array of strings: ["order.paid","access.granted"].
    .addColumn("events", "text", (c) => c.notNull())
    // whsec_ and base64: kept to sign with, shown to the seller once.
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("disabled_reason", "text")
    // The first failed delivery since the last one that succeeded; null while it succeeds.
    .addColumn("failing_since", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("endpoint_id", "text", (c) =>
      c.notNull().references("webhook_endpoints.id").onDelete("cascade"),
    )
    // The webhook-id header: the same for every endpoint, retry and replay of one event.
    .addColumn("message_id", "text", (c) => c.notNull())
    .addColumn("event_type", "text", (c) => c.notNull())
    // The body, exactly as signed and sent.
    .addColumn("payload", "text", (c) => c.notNull())
    // pending (to send or retry), delivered, failed (given up on).
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    // Not before this time; null once delivered or given up on.
    .addColumn("next_attempt_at", "bigint")
    // A sender holds the row until then; null when nobody does.
    .addColumn("lease_until", "bigint")
    .addColumn("response_status", "integer")
    .addColumn("last_error", "text")
    .addColumn("last_attempt_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_due")
    .on("webhook_deliveries")
    .columns(["next_attempt_at"])
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_endpoint")
    .on("webhook_deliveries")
    .columns(["endpoint_id", "created_at"])
    .execute();
}
