import type { Kysely } from "kysely";

// The access history (issue 18): every change to an entitlement (granted, revoked, suspended,
// restored, expired, limits changed, reopened, grace started), who made it (a Stripe event id,
// the seller, the CLI, the system) and why, written in the change's own transaction.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("access_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("entitlement_id", "text", (c) =>
      c.notNull().references("entitlements.id").onDelete("cascade"),
    )
    .addColumn("product_id", "text", (c) => c.notNull())
    .addColumn("change", "text", (c) => c.notNull())
    .addColumn("by", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("access_events_entitlement")
    .on("access_events")
    .columns(["entitlement_id", "created_at"])
    .execute();
}
