import type Stripe from "stripe";
import { type CouponInput, newCoupon, newPromotionCode } from "../discountObjects.ts";
import type { Engine } from "../engine.ts";
import { badRequest } from "../errors.ts";

export function createCoupon(engine: Engine, input: CouponInput): Stripe.Coupon {
  if (input.id !== undefined && engine.state.coupons[input.id])
    throw badRequest("Coupon already exists.", "id", "resource_already_exists");
  const coupon = newCoupon(input);
  engine.state.coupons[coupon.id] = coupon;
  return coupon;
}

export function createPromotionCode(
  engine: Engine,
  input: { coupon: string; code?: string; active: boolean; metadata?: Record<string, string> },
): Stripe.PromotionCode {
  const coupon = engine.coupon(input.coupon, "promotion[coupon]");
  const code = input.code ?? coupon.id.toUpperCase();
  if (activeCode(engine, code))
    throw badRequest(
      `A promotion code with \`code\`: ${code} already exists.`,
      "code",
      "resource_already_exists",
    );
  const promotionCode = newPromotionCode({ ...input, code, coupon: coupon.id });
  engine.state.promotionCodes[promotionCode.id] = promotionCode;
  return promotionCode;
}

/** The active promotion code a buyer typed, matched without regard to case as Stripe does. */
export function activeCode(engine: Engine, typed: string): Stripe.PromotionCode | null {
  const wanted = typed.trim().toUpperCase();
  return (
    Object.values(engine.state.promotionCodes).find(
      (p) => p.active && p.code.toUpperCase() === wanted,
    ) ?? null
  );
}

/**
 * What a coupon takes off `amount` (minor units) in `currency`, or null when it has no amount in
 * that currency.
 */
export function couponDiscount(
  coupon: Stripe.Coupon,
  currency: string,
  amount: number,
): number | null {
  if (!coupon.valid) return null;
  if (coupon.percent_off !== null) return Math.round((amount * coupon.percent_off) / 100);
  const off =
    coupon.currency === currency
      ? coupon.amount_off
      : coupon.currency_options?.[currency]?.amount_off;
  return off === null || off === undefined ? null : Math.min(off, amount);
}
