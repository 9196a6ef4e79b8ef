import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type Stripe from "stripe";
import type { Quote } from "./quoteAmounts.ts";

/** A webhook delivery still to make. `attempts` counts the failed ones so far. */
export interface Delivery {
  eventId: string;
  attempts: number;
  /** Epoch milliseconds. */
  nextAttemptAt: number;
}

/** A bank transfer that settles, or fails, at `dueAt` (epoch milliseconds). */
export interface Settlement {
  sessionId: string;
  outcome: "succeeded" | "failed";
  dueAt: number;
}

/** What a session was created with that Stripe keeps but does not show on the session. */
export interface CheckoutSetup {
  paymentIntentData: { metadata: Record<string, string>; description: string | null };
  subscriptionData: { metadata: Record<string, string>; description: string | null };
  /** The amounts the buyer agreed to on the checkout page, once paid (flows/quote.ts). */
  quote?: Quote;
}

export interface State {
  version: 1;
  products: Record<string, Stripe.Product>;
  prices: Record<string, Stripe.Price>;
  sessions: Record<string, Stripe.Checkout.Session>;
  /** A session's line items, by session id (Stripe lists them separately from the session). */
  lineItems: Record<string, Stripe.LineItem[]>;
  checkoutSetup: Record<string, CheckoutSetup>;
  paymentIntents: Record<string, Stripe.PaymentIntent>;
  charges: Record<string, Stripe.Charge>;
  refunds: Record<string, Stripe.Refund>;
  disputes: Record<string, Stripe.Dispute>;
  customers: Record<string, Stripe.Customer>;
  subscriptions: Record<string, Stripe.Subscription>;
  invoices: Record<string, Stripe.Invoice>;
  coupons: Record<string, Stripe.Coupon>;
  promotionCodes: Record<string, Stripe.PromotionCode>;
  discounts: Record<string, Stripe.Discount>;
  /** One per country and tax behaviour, made when first used (taxes.ts). */
  taxRates: Record<string, Stripe.TaxRate>;
  /** The payment intent that paid an invoice (this API version only links them via expansions). */
  invoicePayments: Record<string, string>;
  /** Oldest first. */
  events: Stripe.EventBase[];
  deliveries: Delivery[];
  settlements: Settlement[];
}

export const emptyState = (): State => ({
  version: 1,
  products: {},
  prices: {},
  sessions: {},
  lineItems: {},
  checkoutSetup: {},
  paymentIntents: {},
  charges: {},
  refunds: {},
  disputes: {},
  customers: {},
  subscriptions: {},
  invoices: {},
  coupons: {},
  promotionCodes: {},
  discounts: {},
  taxRates: {},
  invoicePayments: {},
  events: [],
  deliveries: [],
  settlements: [],
});

export function loadState(file: string | null): State {
  if (!file) return emptyState();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
    throw error;
  }
  const saved = JSON.parse(text) as Partial<State>;
  if (saved.version !== 1)
    throw new Error(`${file} was written by another version of the local Stripe; delete it`);
  return { ...emptyState(), ...saved };
}

/** Writes a temp file and renames it over the old one, so a crash never leaves half a file. */
export function saveState(file: string, state: State): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state));
  renameSync(temp, file);
}
