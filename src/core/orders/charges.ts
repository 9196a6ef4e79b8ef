import { type RawBuilder, sql } from "kysely";
import type { Order } from "../../db/schema.ts";

/**
 * What an order was charged, in its currency's minor units (decision 0029): the price (or the
 * amount chosen), what a promotion code took off, the tax, the total paid, and the net the
 * seller keeps before fees (total less tax). Orders paid before taxes and discounts were recorded,
 * or not yet paid, read as their price with nothing off and no tax.
 */
export interface OrderCharges {
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  net: number;
}

export function orderCharges(
  order: Pick<Order, "amount" | "amount_discount" | "amount_tax" | "amount_total">,
): OrderCharges {
  const subtotal = Number(order.amount);
  const discount = Number(order.amount_discount ?? 0);
  const tax = Number(order.amount_tax ?? 0);
  const total = order.amount_total === null ? subtotal - discount : Number(order.amount_total);
  return { subtotal, discount, tax, total, net: total - tax };
}

/** Whether a discount or tax made the total differ from the price: only then is it itemised. */
export const itemised = (c: Pick<OrderCharges, "discount" | "tax">): boolean =>
  c.discount > 0 || c.tax > 0;

/** orderCharges(order).net, as the database computes it (sums over many orders). */
export const netAmountSql: RawBuilder<number> = sql<number>`coalesce(amount_total, amount - coalesce(amount_discount, 0)) - coalesce(amount_tax, 0)`;

/** A business buyer's tax IDs as recorded ("eu_vat DE123456789", one per line). */
export function orderTaxIds(order: Pick<Order, "tax_ids">): { type: string; value: string }[] {
  return (order.tax_ids ?? "")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const space = line.indexOf(" ");
      return { type: line.slice(0, space), value: line.slice(space + 1) };
    });
}
