import type { CheckoutView } from "../ports.ts";

/**
 * What a payment provider's event means for Tollgate, already verified and translated by the
 * provider's adapter. `orderId` is ours, read from the metadata we put on the session, payment
 * intent or subscription; never inferred from amounts or names.
 */
export type PaymentEvent =
  | {
      kind: "checkout_completed" | "checkout_async_succeeded" | "checkout_async_failed";
      checkout: CheckoutView;
    }
  | { kind: "checkout_expired"; sessionId: string; orderId: string | null }
  | { kind: "payment_succeeded"; paymentIntentId: string; orderId: string | null }
  | {
      kind: "invoice_paid";
      subscriptionId: string;
      orderId: string | null;
      periodEnd: number;
      currency: string;
    }
  | {
      kind: "subscription_changed";
      subscriptionId: string;
      orderId: string | null;
      status: string;
      cancelAtPeriodEnd: boolean;
      periodEnd: number | null;
      endedAt: number | null;
    }
  | {
      kind: "subscription_deleted";
      subscriptionId: string;
      orderId: string | null;
      endedAt: number;
    }
  | ({ kind: "refunded"; full: boolean } & PaymentRef)
  | ({ kind: "dispute_opened" } & PaymentRef)
  | ({ kind: "dispute_closed"; won: boolean } & PaymentRef);

/** A payment (charge) and what it paid for: a one-time order, or a subscription's invoice. */
export interface PaymentRef {
  paymentIntentId: string;
  orderId: string | null;
  subscriptionId: string | null;
}

/** How an event was handled, as recorded on the webhook event row. */
export type EventOutcome =
  | { status: "processed"; note?: string }
  | { status: "ignored"; note: string }
  | { status: "flagged"; note: string };
