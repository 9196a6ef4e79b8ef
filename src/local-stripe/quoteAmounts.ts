import type { TaxId } from "./taxes.ts";

export interface QuoteLine {
  /** The price times the quantity, tax included for an inclusive price. */
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  /** What the tax was computed on, tax excluded. */
  taxable: number;
  inclusive: boolean;
  /** The unit amount charged (a pay-what-you-want price's chosen amount). */
  unitAmount: number;
}

/** The amounts a Checkout Session charges for one buyer's choices. */
export interface Quote {
  currency: string;
  lines: QuoteLine[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  promotionCode: string | null;
  coupon: string | null;
  /** Set when the quote is applied to a paid session. */
  discountId: string | null;
  automaticTax: boolean;
  country: string | null;
  percent: number;
  taxabilityReason: "standard_rated" | "not_collecting" | "reverse_charge" | null;
  taxExempt: "none" | "reverse";
  taxIds: TaxId[];
}
