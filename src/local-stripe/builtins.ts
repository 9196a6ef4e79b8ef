import { newCoupon, newPromotionCode } from "./discountObjects.ts";
import type { State } from "./state.ts";

/**
 * Promotion codes every local Stripe knows, so a shop can try discounts without making any:
 *
 * - `LAUNCH40`: coupon `launch40`, 40% off, once.
 * - `TENOFF`: coupon `tenoff`, 10.00 off, once, in usd, eur or gbp (amount_off 1000 in usd and
 *   `currency_options` of 1000 for eur and gbp, Stripe's multi-currency coupon). In any other
 *   currency the code does not apply, and the checkout page says it is invalid.
 *
 * They are added to the state when missing, with fixed ids, so they survive restarts and can be
 * retrieved and listed like codes made through the API.
 */
export const BUILT_IN_CODES = [
  {
    code: "LAUNCH40",
    promotionId: "promo_localLAUNCH40",
    coupon: {
      id: "launch40",
      name: "Launch: 40% off",
      percentOff: 40,
      amountOff: null,
      currency: null,
      duration: "once",
      durationInMonths: null,
    },
  },
  {
    code: "TENOFF",
    promotionId: "promo_localTENOFF",
    coupon: {
      id: "tenoff",
      name: "10.00 off",
      percentOff: null,
      amountOff: 1000,
      currency: "usd",
      currencyOptions: { eur: { amount_off: 1000 }, gbp: { amount_off: 1000 } },
      duration: "once",
      durationInMonths: null,
    },
  },
] as const;

export function addBuiltInCodes(state: State): void {
  for (const builtIn of BUILT_IN_CODES) {
    state.coupons[builtIn.coupon.id] ??= newCoupon({
      ...builtIn.coupon,
      ...("currencyOptions" in builtIn.coupon
        ? { currencyOptions: { ...builtIn.coupon.currencyOptions } }
        : {}),
    });
    state.promotionCodes[builtIn.promotionId] ??= newPromotionCode({
      id: builtIn.promotionId,
      code: builtIn.code,
      coupon: builtIn.coupon.id,
      active: true,
    });
  }
}
