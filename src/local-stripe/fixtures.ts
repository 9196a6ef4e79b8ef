import { readFileSync } from "node:fs";
import type Stripe from "stripe";

/**
 * Stripe's own example objects (fixtures.json, copied from the stripe/openapi repository with its
 * MIT notice). Every object the local Stripe emits starts as a clone of one of these, so its field
 * names are Stripe's and never ours.
 */
interface Fixtures {
  "checkout.session": Stripe.Checkout.Session;
  item: Stripe.LineItem;
  price: Stripe.Price;
  product: Stripe.Product;
  payment_intent: Stripe.PaymentIntent;
  charge: Stripe.Charge;
  refund: Stripe.Refund;
  dispute: Stripe.Dispute;
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
  invoice: Stripe.Invoice;
  invoice_payment: Stripe.InvoicePayment;
  event: Stripe.EventBase;
  coupon: Stripe.Coupon;
  promotion_code: Stripe.PromotionCode;
  discount: Stripe.Discount;
  tax_rate: Stripe.TaxRate;
}

const resources = (
  JSON.parse(readFileSync(new URL("./fixtures.json", import.meta.url), "utf8")) as {
    resources: Fixtures;
  }
).resources;

export function fixture<K extends keyof Fixtures>(type: K): Fixtures[K] {
  return structuredClone(resources[type]);
}
