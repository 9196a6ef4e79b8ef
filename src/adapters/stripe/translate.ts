import type Stripe from "stripe";
import type { CheckoutView, PaymentEvent, PaymentRef } from "../../core/ports.ts";

const ms = (seconds: number | null | undefined) => (seconds ? seconds * 1000 : null);
export const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === "string" ? value : (value?.id ?? null);

/**
 * The Stripe calls translation needs: fetch what an event only points to. A Checkout Session's
 * line items and subscription are not fetched here: fulfilment asks for them (retrieveCheckout)
 * only when the session the event carries does not already match the pending order.
 */
export interface StripeLookups {
  paymentIntentOfCharge(chargeId: string): Promise<string | null>;
  /** Which order (one-time) or subscription a payment paid for. */
  paymentRef(paymentIntentId: string): Promise<PaymentRef>;
}

/**
 * What a Stripe event means for Tollgate (DESIGN section 6). Our order id comes from the metadata
 * we set on the session, payment intent or subscription; anything else yields null (acknowledged,
 * stored as ignored).
 */
export async function translateEvent(
  event: Stripe.Event,
  lookups: StripeLookups,
): Promise<PaymentEvent | null> {
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
    case "checkout.session.async_payment_failed": {
      // The signed event is the truth about the session. What it leaves out (line items, the
      // subscription's period) is asked of Stripe by fulfilment, and only when it needs it.
      const checkout = checkoutView(event.data.object, false);
      const kind =
        event.type === "checkout.session.completed"
          ? "checkout_completed"
          : event.type === "checkout.session.async_payment_succeeded"
            ? "checkout_async_succeeded"
            : "checkout_async_failed";
      return { kind, checkout };
    }
    case "checkout.session.expired": {
      const session = event.data.object;
      return {
        kind: "checkout_expired",
        sessionId: session.id,
        orderId: session.metadata?.order ?? null,
      };
    }
    case "payment_intent.succeeded": {
      const intent = event.data.object;
      return {
        kind: "payment_succeeded",
        paymentIntentId: intent.id,
        orderId: intent.metadata?.order ?? null,
      };
    }
    case "invoice.paid":
    case "invoice.payment_succeeded": {
      const invoice = event.data.object;
      const details = invoice.parent?.subscription_details;
      const subscriptionId = idOf(details?.subscription);
      if (!subscriptionId) return null;
      const periodEnd = Math.max(
        invoice.period_end,
        ...invoice.lines.data.map((line) => line.period.end),
      );
      return {
        kind: "invoice_paid",
        subscriptionId,
        orderId: details?.metadata?.order ?? null,
        periodEnd: periodEnd * 1000,
        currency: invoice.currency,
        invoiceId: invoice.id,
      };
    }
    case "invoice.payment_failed": {
      // Sent for each failed try (Stripe retries on its schedule); fulfilment acts on the first.
      const invoice = event.data.object;
      const details = invoice.parent?.subscription_details;
      const subscriptionId = idOf(details?.subscription);
      if (!subscriptionId) return null;
      return {
        kind: "invoice_payment_failed",
        subscriptionId,
        orderId: details?.metadata?.order ?? null,
        invoiceId: invoice.id,
        failedAt: event.created * 1000,
        invoiceUrl: invoice.hosted_invoice_url ?? null,
      };
    }
    case "customer.subscription.updated": {
      const sub = event.data.object;
      return {
        kind: "subscription_changed",
        subscriptionId: sub.id,
        orderId: sub.metadata?.order ?? null,
        status: sub.status,
        cancelAtPeriodEnd: sub.cancel_at_period_end,
        periodEnd: ms(sub.items.data[0]?.current_period_end),
        endedAt: ms(sub.ended_at),
      };
    }
    case "customer.subscription.deleted": {
      const sub = event.data.object;
      return {
        kind: "subscription_deleted",
        subscriptionId: sub.id,
        orderId: sub.metadata?.order ?? null,
        endedAt: ms(sub.ended_at ?? sub.canceled_at) ?? event.created * 1000,
      };
    }
    case "charge.refunded": {
      const charge = event.data.object;
      const paymentIntentId = idOf(charge.payment_intent);
      if (!paymentIntentId) return null;
      return {
        kind: "refunded",
        ...(await lookups.paymentRef(paymentIntentId)),
        full: charge.refunded || charge.amount_refunded >= charge.amount,
      };
    }
    case "charge.dispute.created":
    case "charge.dispute.closed": {
      const dispute = event.data.object;
      const paymentIntentId =
        idOf(dispute.payment_intent) ??
        (await lookups.paymentIntentOfCharge(idOf(dispute.charge) ?? ""));
      if (!paymentIntentId) return null;
      const ref = await lookups.paymentRef(paymentIntentId);
      return event.type === "charge.dispute.created"
        ? { kind: "dispute_opened", ...ref }
        : // Only a lost dispute costs the seller the payment; an inquiry closed without becoming
          // a chargeback (warning_closed) is kept like a dispute won.
          { kind: "dispute_closed", ...ref, won: dispute.status !== "lost" };
    }
    default:
      return null;
  }
}

/** Whether translating an event of this type asks Stripe nothing (only refunds and disputes do). */
export function translatesOffline(type: string): boolean {
  return !(type === "charge.refunded" || type.startsWith("charge.dispute."));
}

/**
 * A Checkout Session as the rules see it: retrieved with line items and subscription expanded
 * (detailed), or an event's copy of it (not detailed: neither is there).
 */
export function checkoutView(session: Stripe.Checkout.Session, detailed = true): CheckoutView {
  const subscription = typeof session.subscription === "object" ? session.subscription : null;
  return {
    id: session.id,
    detailed,
    status: (session.status ?? "open") as CheckoutView["status"],
    paymentStatus: session.payment_status as CheckoutView["paymentStatus"],
    mode: session.mode === "subscription" ? "subscription" : "payment",
    currency: session.currency,
    amountSubtotal: session.amount_subtotal,
    amountTotal: session.amount_total,
    email: session.customer_details?.email ?? session.customer_email ?? null,
    metadata: { ...(session.metadata ?? {}) },
    paymentIntentId: idOf(session.payment_intent),
    subscriptionId: idOf(session.subscription),
    customerId: idOf(session.customer),
    subscriptionPeriodEnd: ms(subscription?.items.data[0]?.current_period_end),
    amountDiscount: session.total_details?.amount_discount ?? null,
    amountTax: session.total_details?.amount_tax ?? null,
    taxIds: (session.customer_details?.tax_ids ?? []).flatMap(({ type, value }) =>
      value ? [{ type, value }] : [],
    ),
    country: session.customer_details?.address?.country ?? null,
    invoiceId: idOf(session.invoice) ?? idOf(subscription?.latest_invoice),
    lineItems:
      session.line_items?.data.map((item) => ({
        priceId: item.price?.id ?? null,
        currency: item.currency,
        amountSubtotal: item.amount_subtotal,
        quantity: item.quantity ?? 1,
      })) ?? null,
    createdAt: session.created * 1000,
  };
}

/** Event types Tollgate acts on; reconcile asks Stripe for these only. */
export const HANDLED_EVENT_TYPES = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
  "checkout.session.expired",
  "payment_intent.succeeded",
  "invoice.paid",
  "invoice.payment_succeeded",
  "invoice.payment_failed",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "charge.refunded",
  "charge.dispute.created",
  "charge.dispute.closed",
] as const;
