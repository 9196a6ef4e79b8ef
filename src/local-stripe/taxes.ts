import type Stripe from "stripe";

/**
 * The local Stripe's whole tax engine: one fixed rate per buyer country (percent), standing in for
 * Stripe Tax. Countries not listed are taxed at 0%. The checkout page's country select lists these,
 * in this order; the first is the default.
 */
export const TAX_TABLE: readonly { country: string; name: string; percent: number }[] = [
  { country: "US", name: "United States", percent: 0 },
  { country: "AU", name: "Australia", percent: 10 },
  { country: "AT", name: "Austria", percent: 20 },
  { country: "BE", name: "Belgium", percent: 21 },
  { country: "CA", name: "Canada", percent: 5 },
  { country: "FR", name: "France", percent: 20 },
  { country: "DE", name: "Germany", percent: 19 },
  { country: "IE", name: "Ireland", percent: 23 },
  { country: "IT", name: "Italy", percent: 22 },
  { country: "JP", name: "Japan", percent: 10 },
  { country: "NL", name: "Netherlands", percent: 21 },
  { country: "ES", name: "Spain", percent: 21 },
  { country: "GB", name: "United Kingdom", percent: 20 },
];

export const taxPercent = (country: string) =>
  TAX_TABLE.find((row) => row.country === country)?.percent ?? 0;

const EU = new Set(
  "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split(" "),
);
export const inEu = (country: string) => EU.has(country);

export type TaxId = { type: Stripe.Checkout.Session.CustomerDetails.TaxId.Type; value: string };

/**
 * The type Stripe gives a tax ID the buyer typed: an EU VAT number starts with its country's
 * prefix (Greece's is EL), a UK one with GB, an Australian ABN is 11 digits. Null for anything else.
 */
export function taxIdOf(input: string): TaxId | null {
  const value = input.replace(/[\s.-]/g, "").toUpperCase();
  const prefix = value.slice(0, 2);
  if ((EU.has(prefix) || prefix === "EL") && /^[A-Z]{2}[0-9A-Z]{8,12}$/.test(value))
    return { type: "eu_vat", value };
  if (/^GB(\d{9}|\d{12})$/.test(value)) return { type: "gb_vat", value };
  if (/^\d{11}$/.test(value)) return { type: "au_abn", value };
  return null;
}

/** A business in the EU with an EU VAT number accounts for the VAT itself: reverse charge. */
export const reverseCharge = (country: string | null, taxIds: TaxId[]) =>
  country !== null && inEu(country) && taxIds.some((id) => id.type === "eu_vat");
