import type { Kysely } from "kysely";

// Download limits (issue 18, point 3, decision 0021): per product, how many times a buyer may
// download each file (null: no limit, as before).
//
// download_counts: one row per entitlement and file once a limited product's file was downloaded:
// how many downloads were counted, and until when a repeat of the last one (a double click, a
// retry, a resume) is the same download. Counting is one conditional upsert on this row, so
// concurrent downloads in any number of processes never count past the limit.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("products").addColumn("download_limit", "integer").execute();
  await db.schema
    .createTable("download_counts")
    .addColumn("entitlement_id", "text", (c) =>
      c.notNull().references("entitlements.id").onDelete("cascade"),
    )
    .addColumn("asset_id", "text", (c) => c.notNull())
    .addColumn("used", "integer", (c) => c.notNull())
    .addColumn("window_until", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("download_counts_pk", ["entitlement_id", "asset_id"])
    .execute();
}
