import { type Kysely, sql } from "kysely";

// receipt_sent_at claims a receipt; receipt_delivered_at says the mail really left, so a receipt
// claimed by a process that died before sending it can be found and sent again.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("orders").addColumn("receipt_delivered_at", "bigint").execute();
  // Receipts claimed before this column existed went out as far as anyone knows.
  await sql`update orders set receipt_delivered_at = receipt_sent_at where receipt_sent_at is not null`.execute(
    db,
  );
}
