/**
 * What an order charged, worded once for the pages and the receipt (decision 0029): the price,
 * what a promotion code took off, the tax, the total paid and the net the seller keeps.
 */
import type { OrderCharges } from "../core/orders/charges.ts";
import { formatPrice } from "./format.ts";

/** An order's charges; the net (the total less tax) is the seller's only, so a receipt has none. */
export type Charges = Omit<OrderCharges, "net"> & { net?: number };

/** Countries whose tax on digital goods is a VAT (the EU, the EEA, the UK, Switzerland and more). */
const VAT = new Set(
  "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK GB NO CH IS LI TR ZA AE SA".split(
    " ",
  ),
);
const GST = new Set(["AU", "NZ", "SG", "IN", "MY"]);

/** "Tax (VAT)", "Tax (GST)", or "Tax" where the name is not known. */
export function taxLabel(country: string | null | undefined): string {
  const code = (country ?? "").toUpperCase();
  return VAT.has(code) ? "Tax (VAT)" : GST.has(code) ? "Tax (GST)" : "Tax";
}

/** "VAT", "GST" or "tax", for inside a sentence. */
const taxName = (country: string | null | undefined) =>
  /\((.+)\)/.exec(taxLabel(country))?.[1] ?? "tax";

/** "−€11.60": a minus sign, not a hyphen, before the amount taken off. */
export const minus = (amount: number, currency: string) => `\u2212${formatPrice(amount, currency)}`;

/**
 * The lines of an itemised charge, each a label and its amount: subtotal, discount and tax when
 * there were any, the total paid, and (for the seller) the net.
 */
export function chargeLines(
  c: Charges,
  currency: string,
  opts: { country?: string | null; net?: boolean } = {},
): [string, string][] {
  const money = (amount: number) => formatPrice(amount, currency);
  return [
    ["Subtotal", money(c.subtotal)],
    ...(c.discount > 0 ? ([["Discount", minus(c.discount, currency)]] as [string, string][]) : []),
    ...(c.tax > 0 ? ([[taxLabel(opts.country), money(c.tax)]] as [string, string][]) : []),
    ["Total paid", money(c.total)],
    ...(opts.net && c.net !== undefined
      ? ([["Net (before Stripe's fees)", money(c.net)]] as [string, string][])
      : []),
  ];
}

/** "Total paid €22.91 (€11.60 off, tax €5.51)": one line for a buyer's page. */
export function paidSummary(c: Charges, currency: string, country?: string | null): string {
  const money = (amount: number) => formatPrice(amount, currency);
  const parts = [
    ...(c.discount > 0 ? [`${money(c.discount)} off`] : []),
    ...(c.tax > 0 ? [`${taxName(country)} ${money(c.tax)}`] : []),
  ];
  return `Total paid ${money(c.total)}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

const TAX_ID_NAMES: Record<string, string> = {
  eu_vat: "EU VAT",
  gb_vat: "UK VAT",
  ch_vat: "Swiss VAT",
  no_vat: "Norwegian VAT",
  au_abn: "Australian ABN",
  us_ein: "US EIN",
};

/** "DE123456789 (EU VAT)": a tax ID as typed, with its kind in words where known. */
export function taxIdText(id: { type: string; value: string }): string {
  const kind = TAX_ID_NAMES[id.type] ?? id.type.replaceAll("_", " ").toUpperCase();
  return kind ? `${id.value} (${kind})` : id.value;
}
