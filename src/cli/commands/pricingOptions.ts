import { InvalidArgumentError } from "commander";
import { TAX_CODE } from "../../core/catalog/pricing.ts";
import { invalidInput } from "../../core/errors.ts";

/**
 * The pricing options of `product add` and `product update` (issue 20): pay what you want, a list
 * price crossed out during a sale, and the Stripe tax code. Amounts are whole minor units, as
 * `--price` takes them (1900 means 19.00); the verb (core/catalog/pricing.ts) decides the rest.
 */

const WHOLE = /^\d+$/;
const AMOUNT_HINT = "in minor units: 500 means 5.00";

/** --pay-what-you-want MINIMUM[:SUGGESTED] */
export function payWhatYouWantOption(value: string): { minimum: number; suggested?: number } {
  const [minimum, suggested, ...rest] = value.split(":");
  if (
    rest.length ||
    !minimum ||
    !WHOLE.test(minimum) ||
    (suggested !== undefined && !WHOLE.test(suggested))
  )
    throw new InvalidArgumentError(
      `use <minimum> or <minimum>:<suggested>, whole amounts ${AMOUNT_HINT} (e.g. 500:1500)`,
    );
  return {
    minimum: Number(minimum),
    ...(suggested !== undefined ? { suggested: Number(suggested) } : {}),
  };
}

/** --list-price AMOUNT|none */
export function listPriceOption(value: string): number | "none" {
  if (value === "none") return "none";
  if (!WHOLE.test(value))
    throw new InvalidArgumentError(`use a whole amount ${AMOUNT_HINT}, or "none" to end the sale`);
  return Number(value);
}

/** --tax-code txcd_NNNNNNNN|none */
export function taxCodeOption(value: string): string | "none" {
  if (value === "none") return "none";
  if (!TAX_CODE.test(value))
    throw new InvalidArgumentError(
      'use a Stripe tax code such as txcd_10000000 (txcd_ and 8 digits), or "none"',
    );
  return value;
}

/** What commander gives (it keeps no null from a parser: "none" stands for it). */
export interface PricingOptions {
  payWhatYouWant?: { minimum: number; suggested?: number };
  fixedPrice?: boolean;
  listPrice?: number | "none";
  taxCode?: string | "none";
}

/** The options as the product schema takes them; only those given. */
export function pricingInput(opts: PricingOptions) {
  if (opts.payWhatYouWant && opts.fixedPrice)
    throw invalidInput(
      "--pay-what-you-want and --fixed-price contradict each other: give one of them.",
    );
  return {
    ...(opts.payWhatYouWant ? { payWhatYouWant: opts.payWhatYouWant } : {}),
    ...(opts.fixedPrice ? { payWhatYouWant: null } : {}),
    ...(opts.listPrice !== undefined
      ? { listPrice: opts.listPrice === "none" ? null : opts.listPrice }
      : {}),
    ...(opts.taxCode !== undefined
      ? { taxCode: opts.taxCode === "none" ? null : opts.taxCode }
      : {}),
  };
}
