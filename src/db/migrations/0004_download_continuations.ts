import type { Kysely } from "kysely";

// A download is one counted use. Later byte ranges continue it for free only from the same link,
// while it is recent, and for no more bytes in all than its file: the link, the bytes it may still
// serve and how long it stays open are kept on its row, so every process sees and updates them.
// A transfer that breaks off may get back, once, what sat in socket buffers (resume_allowance).
// Rows from before this migration have none and are never continued.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("downloads").addColumn("link", "text").execute();
  await db.schema.alterTable("downloads").addColumn("bytes_left", "bigint").execute();
  await db.schema.alterTable("downloads").addColumn("resumable_until", "bigint").execute();
  await db.schema.alterTable("downloads").addColumn("resume_allowance", "bigint").execute();
  await db.schema
    .createIndex("downloads_link")
    .on("downloads")
    .columns(["link", "asset_id", "resumable_until"])
    .execute();
}
