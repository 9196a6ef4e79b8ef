import type Stripe from "stripe";
import { fixture } from "./fixtures.ts";
import { newId, randomText, unixNow } from "./ids.ts";

/** Builders for coupons, promotion codes, discounts and tax rates, from Stripe's examples. */

export interface CouponInput {
  id?: string | undefined;
  percentOff: number | null;
  amountOff: number | null;
  currency: string | null;
  /** Other currencies' `amount_off` (Stripe's multi-currency coupons). */
  currencyOptions?: Record<string, { amount_off: number }>;
  duration: Stripe.Coupon.Duration;
  durationInMonths: number | null;
  name: string | null;
  metadata?: Record<string, string>;
}

export function newCoupon(input: CouponInput): Stripe.Coupon {
  const coupon = Object.assign(fixture("coupon"), {
    id: input.id ?? randomText(8).toUpperCase(),
    amount_off: input.amountOff,
    created: unixNow(),
    currency: input.currency,
    duration: input.duration,
    duration_in_months: input.durationInMonths,
    livemode: false,
    max_redemptions: null,
    metadata: input.metadata ?? {},
    name: input.name,
    percent_off: input.percentOff,
    redeem_by: null,
    times_redeemed: 0,
    valid: true,
  } satisfies Partial<Stripe.Coupon>);
  if (input.currencyOptions) coupon.currency_options = input.currencyOptions;
  return coupon;
}

export function newPromotionCode(input: {
  id?: string;
  code: string;
  coupon: string;
  active: boolean;
  metadata?: Record<string, string>;
}): Stripe.PromotionCode {
  return Object.assign(fixture("promotion_code"), {
    id: input.id ?? newId("promo"),
    active: input.active,
    code: input.code,
    created: unixNow(),
    customer: null,
    customer_account: null,
    expires_at: null,
    livemode: false,
    max_redemptions: null,
    metadata: input.metadata ?? {},
    promotion: { coupon: input.coupon, type: "coupon" },
    restrictions: {
      first_time_transaction: false,
      minimum_amount: null,
      minimum_amount_currency: null,
    },
    times_redeemed: 0,
  } satisfies Partial<Stripe.PromotionCode>);
}

/** The discount a promotion code gave one Checkout Session. */
export function newDiscount(input: {
  coupon: string;
  promotionCode: string | null;
  checkoutSession: string;
  customer: string | null;
}): Stripe.Discount {
  return Object.assign(fixture("discount"), {
    id: newId("di"),
    checkout_session: input.checkoutSession,
    customer: input.customer,
    customer_account: null,
    end: null,
    invoice: null,
    invoice_item: null,
    promotion_code: input.promotionCode,
    source: { coupon: input.coupon, type: "coupon" },
    start: unixNow(),
    subscription: null,
    subscription_item: null,
  } satisfies Partial<Stripe.Discount>);
}

/** The taxes of the tax table's countries that are not a VAT. */
const OTHER_TAXES: Record<string, { type: Stripe.TaxRate.TaxType; name: string }> = {
  AU: { type: "gst", name: "GST" },
  CA: { type: "gst", name: "GST" },
  JP: { type: "jct", name: "JCT" },
  US: { type: "sales_tax", name: "Sales tax" },
};

export function newTaxRate(input: {
  country: string;
  percent: number;
  inclusive: boolean;
}): Stripe.TaxRate {
  const kind = OTHER_TAXES[input.country] ?? { type: "vat", name: "VAT" };
  return Object.assign(fixture("tax_rate"), {
    id: newId("txr"),
    active: true,
    country: input.country,
    created: unixNow(),
    description: `${kind.name} ${input.country}`,
    display_name: kind.name,
    effective_percentage: input.percent,
    flat_amount: null,
    inclusive: input.inclusive,
    jurisdiction: input.country,
    jurisdiction_level: "country",
    livemode: false,
    metadata: {},
    percentage: input.percent,
    rate_type: "percentage",
    state: null,
    tax_type: kind.type,
  } satisfies Partial<Stripe.TaxRate>);
}
