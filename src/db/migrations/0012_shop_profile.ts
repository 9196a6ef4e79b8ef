import type { Kysely } from "kysely";

// What the seller sets about the shop from its pages (decision 0016): its name, logo, support
// address and time zone. One row; a null column means "the configuration's default" (SHOP_NAME,
// no logo, no support address, UTC), so a shop that never saved its settings behaves as before.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("shop_profile")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("name", "text")
    .addColumn("support_email", "text")
    .addColumn("time_zone", "text")
    .addColumn("logo_image", "text")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}
