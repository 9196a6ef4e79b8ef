import type { Kysely } from "kysely";

// Licence keys (issue 15, docs/licensing.md). A product turns licences on with an activation limit
// (null: none) and whether keys end with access (subscriptions) or never. Each entitlement of such
// a product gets one key, issued in the transaction that grants the entitlement (unique
// entitlement_id makes a retried grant find the same key). A licence's own limit overrides the
// product's for one customer. An activation is one fingerprint of one licence, counted once
// (unique together).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("products")
    .addColumn("license_enabled", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("products").addColumn("license_activation_limit", "integer").execute();
  await db.schema
    .alterTable("products")
    .addColumn("license_expires_with_access", "integer", (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createTable("licenses")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("key", "text", (c) => c.notNull().unique())
    .addColumn("entitlement_id", "text", (c) => c.notNull().unique().references("entitlements.id"))
    .addColumn("product_id", "text", (c) => c.notNull().references("products.id"))
    .addColumn("activation_limit", "integer")
    .addColumn("revoked_at", "bigint")
    .addColumn("revoked_reason", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("licenses_product_created")
    .on("licenses")
    .columns(["product_id", "created_at"])
    .execute();
  await db.schema
    .createTable("license_activations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("license_id", "text", (c) => c.notNull().references("licenses.id"))
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("label", "text")
    .addColumn("ip", "text")
    .addColumn("first_seen_at", "bigint", (c) => c.notNull())
    .addColumn("last_seen_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("license_activations_license_fingerprint", ["license_id", "fingerprint"])
    .execute();
}
