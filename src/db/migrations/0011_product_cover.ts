import type { Kysely } from "kysely";

// A product's cover image (issue 16, point 9): the id of a public image (`<sha256>.<ext>`, served
// at /images/{id}), or null when it has none. Covers are not paid files: a public URL is fine.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("products").addColumn("cover_image", "text").execute();
}
