import type { CouponInput } from "../discountObjects.ts";
import { badRequest } from "../errors.ts";
import type { Reader } from "../params.ts";

/** The bodies of `POST /v1/coupons` and `POST /v1/promotion_codes`, read as Stripe reads them. */

export function couponInput(r: Reader): CouponInput {
  const id = r.string("id", { max: 200 });
  const percentText = r.string("percent_off");
  const amountOff = r.int("amount_off", { min: 1, max: 99_999_999 }) ?? null;
  const currency = r.string("currency")?.toLowerCase() ?? null;
  if (percentText !== undefined && amountOff !== null)
    throw badRequest(
      "You may only specify one of these parameters: amount_off, percent_off.",
      "percent_off",
    );
  let percentOff: number | null = null;
  if (percentText !== undefined) {
    percentOff = Number(percentText);
    if (!/^\d+(\.\d{1,2})?$/.test(percentText) || percentOff <= 0 || percentOff > 100)
      throw badRequest("percent_off must be greater than 0 and at most 100.", "percent_off");
  } else if (amountOff === null) {
    throw badRequest("You must pass either amount_off or percent_off.", "amount_off");
  }
  if (amountOff !== null && !currency)
    throw badRequest("You must pass currency when passing amount_off.", "currency");
  if (currency !== null && !/^[a-z]{3}$/.test(currency))
    throw badRequest(`Invalid currency: ${currency}`, "currency");
  const duration = r.oneOf("duration", ["once", "forever", "repeating"]) ?? "once";
  const months = r.int("duration_in_months", { min: 1, max: 120 }) ?? null;
  if (duration === "repeating" && months === null)
    throw badRequest(
      "You must pass duration_in_months when duration is repeating.",
      "duration_in_months",
    );
  if (duration !== "repeating" && months !== null)
    throw badRequest(
      "duration_in_months is only valid when duration is repeating.",
      "duration_in_months",
    );
  return {
    id,
    percentOff,
    amountOff,
    currency: amountOff !== null ? currency : null,
    duration,
    durationInMonths: months,
    name: r.string("name", { max: 40 }) ?? null,
    metadata: r.metadata() ?? {},
  };
}

export function promotionCodeInput(r: Reader) {
  const promotion = r.object("promotion", true) as Reader;
  promotion.oneOf("type", ["coupon"], true);
  const coupon = promotion.string("coupon", { required: true });
  const code = r.string("code", { max: 500 });
  if (code !== undefined && !/^[A-Za-z0-9_-]+$/.test(code))
    throw badRequest(
      "Promotion codes may contain only letters, digits, dashes and underscores.",
      "code",
    );
  return {
    coupon,
    ...(code !== undefined ? { code } : {}),
    active: r.bool("active") ?? true,
    metadata: r.metadata() ?? {},
  };
}
