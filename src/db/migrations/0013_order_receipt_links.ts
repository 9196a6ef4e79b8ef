import type { Kysely } from "kysely";

// The buyer's link to the payment's receipt or invoice at the payment provider (Stripe's charge
// `receipt_url` or invoice `hosted_invoice_url`), asked for the first time the buyer opens it and
// remembered with the time it was asked, so the next opening needs no call to the provider.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("orders").addColumn("receipt_url", "text").execute();
  await db.schema.alterTable("orders").addColumn("receipt_url_at", "bigint").execute();
}
