import type { Kysely } from "kysely";

// The receipt queue carries the other mail an order sends, the refund notice, under the same
// leases (decision 0011): `kind` says which mail a row is. An order has one row at a time; a
// refund replaces a receipt still queued (a refunded order's receipt is not sent any more).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("receipt_queue")
    .addColumn("kind", "text", (c) => c.notNull().defaultTo("receipt"))
    .execute();
}
