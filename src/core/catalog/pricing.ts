import type { Product } from "../../db/schema.ts";
import { invalidInput } from "../errors.ts";
import * as z from "../zod.ts";

/**
 * How a product is priced beyond its amount (issue 20, decision 0029): pay what you want, a list
 * price crossed out during a sale, and its Stripe tax code. The one place that decides what is
 * allowed and what a buyer is asked to pay; checkout, fulfilment, the pages and the product's
 * JSON all ask here.
 */
export interface Pricing {
  /** Pay what you want: the least a buyer may choose and the amount offered first; null: fixed. */
  payWhatYouWant: { minimum: number; suggested: number } | null;
  /** The usual price, crossed out beside the price while the price is below it; null: no sale. */
  listPrice: number | null;
  /** Stripe's tax code for what is sold (txcd_10000000 is general electronically supplied services). */
  taxCode: string | null;
}

/** The largest amount anywhere (as Stripe's 8 digits): 99,999,999 minor units. */
export const MAX_AMOUNT = 99_999_999;

const amount = (what: string) =>
  z
    .number()
    .check(
      z.int("use whole minor units (cents): 500 means 5.00"),
      z.minimum(1, `${what} must be above 0`),
      z.maximum(MAX_AMOUNT, "is too large"),
    );

/** Stripe's product tax codes: txcd_ and 8 digits. */
export const TAX_CODE = /^txcd_\d{8}$/;

export const taxCodeSchema = z.nullable(
  z.string().check(z.trim(), z.regex(TAX_CODE, "must be a Stripe tax code such as txcd_10000000")),
);

export const payWhatYouWantSchema = z.nullable(
  z.strictObject({
    minimum: amount("the minimum"),
    /** Offered first on the checkout page; the minimum when left out. */
    suggested: z.optional(amount("the suggested amount")),
  }),
);

export const listPriceSchema = z.nullable(amount("the list price"));

/** The pricing fields as the seller sends them (product create and update), each optional. */
export const pricingFields = {
  taxCode: z.optional(taxCodeSchema),
  payWhatYouWant: z.optional(payWhatYouWantSchema),
  listPrice: z.optional(listPriceSchema),
};

type PricingColumns = Pick<Product, "tax_code" | "pwyw_minimum" | "pwyw_suggested" | "list_price">;

/** The columns a change writes; fields left out stay as they are. */
export function pricingColumns(input: {
  taxCode?: string | null;
  payWhatYouWant?: { minimum: number; suggested?: number } | null;
  listPrice?: number | null;
}): Partial<PricingColumns> {
  const { taxCode, payWhatYouWant, listPrice } = input;
  return {
    ...(taxCode !== undefined ? { tax_code: taxCode } : {}),
    ...(payWhatYouWant !== undefined
      ? {
          pwyw_minimum: payWhatYouWant?.minimum ?? null,
          pwyw_suggested: payWhatYouWant
            ? (payWhatYouWant.suggested ?? payWhatYouWant.minimum)
            : null,
        }
      : {}),
    ...(listPrice !== undefined ? { list_price: listPrice } : {}),
  };
}

export function pricingOf(product: PricingColumns): Pricing {
  return {
    payWhatYouWant:
      product.pwyw_minimum === null
        ? null
        : {
            minimum: product.pwyw_minimum,
            suggested: product.pwyw_suggested ?? product.pwyw_minimum,
          },
    listPrice: product.list_price,
    taxCode: product.tax_code,
  };
}

/**
 * Refuses a product whose pricing cannot be sold as set, in the seller's words: checked on the
 * product as it will be after a create or an update, so no order of fields gets round it.
 */
export function checkPricing(
  product: PricingColumns & Pick<Product, "kind" | "price_amount" | "stripe_price_id">,
): void {
  const { payWhatYouWant, listPrice } = pricingOf(product);
  if (payWhatYouWant) {
    if (product.kind !== "one_time")
      throw invalidInput(
        "Pay what you want is for one-time purchases: Stripe does not let buyers choose a subscription's price.",
        { field: "payWhatYouWant" },
      );
    if (product.stripe_price_id)
      throw invalidInput(
        "Pay what you want makes its own Stripe price: remove stripePriceId first, or set the chosen amounts on that price in Stripe.",
        { field: "payWhatYouWant" },
      );
    if (payWhatYouWant.suggested < payWhatYouWant.minimum)
      throw invalidInput("The suggested amount cannot be below the minimum.", {
        field: "payWhatYouWant.suggested",
      });
  }
  if (listPrice !== null && listPrice <= product.price_amount)
    throw invalidInput(
      "The list price is the usual price shown crossed out during a sale: it must be above the price. Clear it to end the sale.",
      { field: "listPrice" },
    );
}

/** What the buyer is asked to pay at least, and whether the amount is theirs to choose. */
export function checkoutAmount(product: PricingColumns & Pick<Product, "price_amount">): {
  amount: number;
  minimum: number | null;
} {
  const { payWhatYouWant } = pricingOf(product);
  return payWhatYouWant
    ? { amount: payWhatYouWant.suggested, minimum: payWhatYouWant.minimum }
    : { amount: product.price_amount, minimum: null };
}

/** Whether a paid subtotal is what an order allows: its amount, or a chosen one from its minimum. */
export function amountAllowed(
  order: { amount: number; amount_minimum: number | null },
  paid: number,
): boolean {
  if (order.amount_minimum === null) return paid === order.amount;
  return Number.isInteger(paid) && paid >= order.amount_minimum && paid <= MAX_AMOUNT;
}

/** Shown on the storefront: a sale when the list price is above the price. */
export function onSale(product: Pick<Product, "list_price" | "price_amount">): boolean {
  return product.list_price !== null && product.list_price > product.price_amount;
}
