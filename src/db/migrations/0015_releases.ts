import type { Kysely } from "kysely";

// Releases of a product (issue 17, decision 0018): a version name, Markdown notes, and the
// manifest of the product's active files at that moment (name, size, SHA-256, asset id) with what
// changed against the previous release, both kept as JSON so a release never changes afterwards.
// `seq` orders a product's releases (unique: two publishes at once cannot both be "next").
// release_notices is the update mail's queue: one row per recipient, written in the release's
// transaction and drained under leases like receipt_queue (decision 0011); a row is settled as
// sent or failed and kept, so the release page counts progress and nobody is mailed twice.
// mail_unsubscribes: addresses that asked for no more update mails (RFC 8058 one-click).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("releases")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("product_id", "text", (c) =>
      c.notNull().references("products.id").onDelete("cascade"),
    )
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("notes", "text", (c) => c.notNull())
    .addColumn("files", "text", (c) => c.notNull())
    .addColumn("changes", "text", (c) => c.notNull())
    .addColumn("notify", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("releases_product_version")
    .on("releases")
    .columns(["product_id", "version"])
    .unique()
    .execute();
  await db.schema
    .createIndex("releases_product_seq")
    .on("releases")
    .columns(["product_id", "seq"])
    .unique()
    .execute();

  await db.schema
    .createTable("release_notices")
    .addColumn("release_id", "text", (c) =>
      c.notNull().references("releases.id").onDelete("cascade"),
    )
    .addColumn("email", "text", (c) => c.notNull())
    // queued, sent, failed (for good), skipped (unsubscribed before its turn)
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("due_at", "bigint", (c) => c.notNull())
    .addColumn("lease_until", "bigint")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .addColumn("sent_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("release_notices_pk", ["release_id", "email"])
    .execute();
  await db.schema
    .createIndex("release_notices_due")
    .on("release_notices")
    .columns(["status", "due_at"])
    .execute();

  await db.schema
    .createTable("mail_unsubscribes")
    .addColumn("email", "text", (c) => c.primaryKey())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}
