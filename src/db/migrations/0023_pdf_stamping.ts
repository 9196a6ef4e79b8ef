import { type Kysely, sql } from "kysely";

// PDF stamping (issue 19, point 2; decision 0026). Per product: whether buyers' PDFs are stamped
// ("Licensed to {email}, order {reference}" on every page and an invisible trace id), and what a
// download does when stamping a copy failed: serve the original, or hold it. Each buyer's copy of
// each PDF (asset and entitlement) is a pdf_stamps row: queued at purchase (or at the first
// download that finds none), claimed under a lease by one stamper, then ready (its own object in
// storage) or failed; its trace id is what `tollgate trace` looks up.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("products")
    .addColumn("stamp_pdfs", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("products")
    .addColumn("stamp_failure", "text", (c) => c.notNull().defaultTo("original"))
    .execute();
  await db.schema
    .createTable("pdf_stamps")
    .addColumn("asset_id", "text", (c) => c.notNull())
    .addColumn("entitlement_id", "text", (c) => c.notNull())
    .addColumn("order_id", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("trace_id", "text")
    .addColumn("storage_key", "text")
    .addColumn("size", "bigint")
    .addColumn("sha256", "text")
    .addColumn("due_at", "bigint", (c) => c.notNull())
    .addColumn("lease_until", "bigint")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .addColumn("alerted_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("stamped_at", "bigint")
    .addPrimaryKeyConstraint("pdf_stamps_pk", ["asset_id", "entitlement_id"])
    .execute();
  await db.schema
    .createIndex("pdf_stamps_trace")
    .unique()
    .on("pdf_stamps")
    .column("trace_id")
    .where(sql.ref("trace_id"), "is not", null)
    .execute();
  // The stamper's pass: pending rows by when they fall due.
  await db.schema
    .createIndex("pdf_stamps_pending")
    .on("pdf_stamps")
    .column("due_at")
    .where(sql.ref("status"), "=", "pending")
    .execute();
}
