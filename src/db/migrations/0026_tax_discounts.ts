import type { Kysely } from "kysely";

// Taxes, invoices, discounts and prices buyers choose, through Stripe (issue 20; decision 0029).
//
// shop_profile.checkout_*: the seller's Checkout settings (null: the configuration's default):
//   automatic tax, tax ID collection, an invoice for one-time payments, promotion codes; and
//   whether prices include tax ("exclusive" | "inclusive"; null: exclusive).
// products.tax_code: the product's Stripe tax code (txcd_...); null: the account's default.
// products.pwyw_minimum / pwyw_suggested: pay what you want (null: a fixed price); the buyer
//   chooses at least the minimum, the suggested amount is offered first.
// products.list_price: the usual price, shown crossed out while price_amount is below it.
// orders.amount_minimum: a chosen-price order accepts any subtotal from it (null: exactly amount).
// orders.price_id: the provider price the session was made with, when it was one (pay what you
//   want: a price Tollgate made; the line item must name it).
// orders.amount_discount / amount_tax / amount_total: what the provider charged, once paid.
// orders.tax_ids / buyer_country / invoice_id: the business buyer's tax IDs ("eu_vat DE123...",
//   one per line), the country tax was computed for, the invoice the payment made.
// provider_prices: prices Tollgate made at the provider (a pay-what-you-want product's), by what
//   they were made from, so each is made once and reused.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of [
    "checkout_automatic_tax",
    "checkout_tax_id_collection",
    "checkout_invoice_creation",
    "checkout_promotion_codes",
  ])
    await db.schema.alterTable("shop_profile").addColumn(column, "integer").execute();
  await db.schema.alterTable("shop_profile").addColumn("checkout_tax_behavior", "text").execute();

  await db.schema.alterTable("products").addColumn("tax_code", "text").execute();
  await db.schema.alterTable("products").addColumn("pwyw_minimum", "integer").execute();
  await db.schema.alterTable("products").addColumn("pwyw_suggested", "integer").execute();
  await db.schema.alterTable("products").addColumn("list_price", "integer").execute();

  await db.schema.alterTable("orders").addColumn("amount_minimum", "integer").execute();
  await db.schema.alterTable("orders").addColumn("price_id", "text").execute();
  await db.schema.alterTable("orders").addColumn("amount_discount", "integer").execute();
  await db.schema.alterTable("orders").addColumn("amount_tax", "integer").execute();
  await db.schema.alterTable("orders").addColumn("amount_total", "integer").execute();
  await db.schema.alterTable("orders").addColumn("tax_ids", "text").execute();
  await db.schema.alterTable("orders").addColumn("buyer_country", "text").execute();
  await db.schema.alterTable("orders").addColumn("invoice_id", "text").execute();

  await db.schema
    .createTable("provider_prices")
    .addColumn("spec", "text", (c) => c.primaryKey())
    .addColumn("price_id", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}
