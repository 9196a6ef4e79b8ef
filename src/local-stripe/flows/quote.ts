import type Stripe from "stripe";
import { formatPrice } from "../../pages/format.ts";
import type { Engine } from "../engine.ts";
import type { Quote, QuoteLine } from "../quoteAmounts.ts";
import { reverseCharge, type TaxId, taxIdOf, taxPercent } from "../taxes.ts";
import { activeCode, couponDiscount } from "./promotions.ts";

/** What the buyer filled in on the checkout page, beyond email and card. */
export interface BuyerInput {
  /** As typed; matched without regard to case. */
  promotionCode: string | null;
  country: string | null;
  taxId: string | null;
  /** Minor units, for a pay-what-you-want price; its preset when null. */
  amount: number | null;
}

export const noInput: BuyerInput = {
  promotionCode: null,
  country: null,
  taxId: null,
  amount: null,
};

/** Something the buyer entered that cannot be charged: the page says so, with a 400. */
export class CheckoutInputError extends Error {
  override readonly name = "CheckoutInputError";
}

/** Stripe's smallest charge is about 0.50 in most currencies: the floor of an unset minimum. */
const MIN_CHARGE = 50;

/** The range a pay-what-you-want price accepts, in minor units. */
export const customRange = (custom: Stripe.Price.CustomUnitAmount) => ({
  min: custom.minimum ?? MIN_CHARGE,
  max: custom.maximum ?? 99_999_999,
});

export function quote(
  engine: Engine,
  session: Stripe.Checkout.Session,
  items: Stripe.LineItem[],
  input: BuyerInput,
): Quote {
  const currency = session.currency ?? "usd";
  const money = (amount: number) => formatPrice(amount, currency);
  const priced = items.map((item) => {
    const price = item.price;
    const custom = price?.custom_unit_amount;
    let unitAmount = price?.unit_amount ?? 0;
    if (custom) {
      const { min, max } = customRange(custom);
      unitAmount = input.amount ?? custom.preset ?? min;
      if (unitAmount < min) throw new CheckoutInputError(`Enter at least ${money(min)}.`);
      if (unitAmount > max) throw new CheckoutInputError(`Enter at most ${money(max)}.`);
    }
    return {
      unitAmount,
      subtotal: unitAmount * (item.quantity ?? 1),
      inclusive: price?.tax_behavior === "inclusive",
    };
  });
  const subtotal = priced.reduce((sum, line) => sum + line.subtotal, 0);

  const typed = session.allow_promotion_codes ? input.promotionCode?.trim() : "";
  const promotion = typed ? activeCode(engine, typed) : null;
  const couponId = promotion?.promotion.coupon;
  const coupon = typeof couponId === "string" ? engine.state.coupons[couponId] : undefined;
  const off = coupon ? couponDiscount(coupon, currency, subtotal) : null;
  if (typed && off === null) throw new CheckoutInputError("This code is invalid.");
  const discounts = spread(
    off ?? 0,
    priced.map((line) => line.subtotal),
  );

  const automaticTax = session.automatic_tax.enabled;
  const country = input.country?.trim().toUpperCase() || null;
  if (automaticTax && !country) throw new CheckoutInputError("Choose your country.");
  if (country && !/^[A-Z]{2}$/.test(country))
    throw new CheckoutInputError("Choose your country from the list.");
  const taxIds: TaxId[] = [];
  const typedTaxId = session.tax_id_collection?.enabled ? input.taxId?.trim() : "";
  if (typedTaxId) {
    const taxId = taxIdOf(typedTaxId);
    if (!taxId)
      throw new CheckoutInputError(
        "Enter a tax ID such as an EU VAT number with its country prefix (DE123456789), a UK VAT number (GB123456789) or an Australian ABN (11 digits).",
      );
    taxIds.push(taxId);
  }
  const reverse = automaticTax && reverseCharge(country, taxIds);
  const percent = automaticTax && country && !reverse ? taxPercent(country) : 0;

  const lines = priced.map((line, i): QuoteLine => {
    const discount = discounts[i] ?? 0;
    const base = line.subtotal - discount;
    const tax = line.inclusive
      ? Math.round((base * percent) / (100 + percent))
      : Math.round((base * percent) / 100);
    return {
      ...line,
      discount,
      tax,
      total: line.inclusive ? base : base + tax,
      taxable: line.inclusive ? base - tax : base,
    };
  });
  const sum = (key: "discount" | "tax" | "total") =>
    lines.reduce((total, line) => total + line[key], 0);
  return {
    currency,
    lines,
    subtotal,
    discount: sum("discount"),
    tax: sum("tax"),
    total: sum("total"),
    promotionCode: off !== null ? (promotion?.id ?? null) : null,
    coupon: off !== null ? (coupon?.id ?? null) : null,
    discountId: null,
    automaticTax,
    country,
    percent,
    taxabilityReason: !automaticTax
      ? null
      : reverse
        ? "reverse_charge"
        : percent > 0
          ? "standard_rated"
          : "not_collecting",
    taxExempt: reverse ? "reverse" : "none",
    taxIds,
  };
}

/** Shares `amount` over `parts` in proportion, the rounding left on the last part. */
function spread(amount: number, parts: number[]): number[] {
  const whole = parts.reduce((sum, part) => sum + part, 0);
  if (whole === 0) return parts.map(() => 0);
  let left = amount;
  return parts.map((part, i) => {
    const share = i === parts.length - 1 ? left : Math.round((amount * part) / whole);
    left -= share;
    return share;
  });
}
