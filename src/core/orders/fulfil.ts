import { sql } from "kysely";
import type { Order, Product } from "../../db/schema.ts";
import { grantAccess } from "../access/entitlements.ts";
import { gracePolicy } from "../catalog/grace.ts";
import { amountAllowed } from "../catalog/pricing.ts";
import { type Ctx, db, normalizeEmail } from "../context.ts";
import type { CheckoutView, PaymentEvent, PaymentRef } from "../ports.ts";
import { queueStamps } from "../stamping/stamps.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";
import type { EventOutcome } from "./events.ts";
import { findOrder, setOrderAccess, transition } from "./orderState.ts";
import { endPastDueGrace, startPastDueGrace } from "./pastDue.ts";
import { queueReceipt, queueRefundNotice } from "./receipts.ts";
import { orderReference } from "./reference.ts";

/** Renewal payments can land a little after the period ends; access lasts this much longer. */
export const RENEWAL_GRACE_MS = 24 * 3600 * 1000;

export interface Fulfilment {
  outcome: EventOutcome;
  /** Set when this call queued an order's mail (its receipt when it became paid, its refund
   * notice when it became refunded): wake the sender after the commit (receiptsQueued). */
  receiptQueued: string | null;
  /** Set when this call queued a failed invoice's mail to the buyer: send it after the commit
   * (paymentFailedMailQueued). */
  paymentFailedMail?: string;
  /**
   * Set, with nothing written, when the event's copy of the session does not settle it: ask the
   * provider for the whole session (outside the transaction) and fulfil again with it.
   */
  needsCheckoutDetails?: true;
}

const done = (outcome: EventOutcome, receiptQueued: string | null = null): Fulfilment => ({
  outcome,
  receiptQueued,
});
const ignored = (note: string) => done({ status: "ignored", note });

/**
 * The one fulfilment path: webhooks, the success page's sync and reconcile all call it, inside
 * the transaction that records the event. Every step is idempotent and every transition
 * monotonic, so duplicates, retries and events out of order end in the same state.
 */
export async function fulfil(ctx: Ctx, event: PaymentEvent): Promise<Fulfilment> {
  switch (event.kind) {
    case "checkout_completed":
    case "checkout_async_succeeded":
    case "checkout_async_failed":
      return onCheckout(ctx, event.kind, event.checkout);
    case "checkout_expired": {
      const order = await findOrder(ctx, { orderId: event.orderId, sessionId: event.sessionId });
      if (!order) return ignored("no order for this session");
      return done({
        status: "processed",
        note: (await transition(ctx, order, "abandoned"))
          ? "order abandoned"
          : `order stays ${order.status}`,
      });
    }
    case "payment_succeeded": {
      const order = await findOrder(ctx, {
        orderId: event.orderId,
        paymentIntentId: event.paymentIntentId,
      });
      if (!order) return ignored("no order for this payment");
      // Only a session we have checked (line items, currency) may be confirmed by its payment.
      if (order.payment_intent_id !== event.paymentIntentId)
        return ignored("waiting for the checkout session");
      return markPaid(ctx, order, null);
    }
    case "invoice_paid": {
      const order = await findOrder(ctx, {
        orderId: event.orderId,
        subscriptionId: event.subscriptionId,
      });
      if (!order) return ignored("no order for this subscription");
      if (order.subscription_id !== event.subscriptionId)
        return ignored("waiting for the checkout session");
      if (event.currency !== order.currency)
        return flag(ctx, order, `invoice currency ${event.currency} is not ${order.currency}`);
      const paid = await markPaid(ctx, order, event.periodEnd);
      // A past-due grace ends with its invoice paid: the paid period takes over from it.
      if (paid.outcome.status === "processed" && event.invoiceId)
        if (await endPastDueGrace(ctx, order, event.invoiceId)) {
          await setOrderAccess(ctx, order, "active", ["active"], {
            endsAt: event.periodEnd + RENEWAL_GRACE_MS,
          });
          return {
            ...paid,
            outcome: { ...paid.outcome, note: "invoice paid after all: grace over" },
          };
        }
      return paid;
    }
    case "invoice_payment_failed": {
      const order = await findOrder(ctx, {
        orderId: event.orderId,
        subscriptionId: event.subscriptionId,
      });
      if (!order) return ignored("no order for this subscription");
      if (order.subscription_id !== event.subscriptionId)
        return ignored("waiting for the checkout session");
      const grace = await startPastDueGrace(ctx, order, event);
      if (!grace.started) return ignored(grace.note);
      return {
        ...done({ status: "processed", note: grace.note }),
        paymentFailedMail: event.invoiceId,
      };
    }
    case "subscription_changed":
      return onSubscriptionChanged(ctx, event);
    case "subscription_deleted": {
      const order = await findOrder(ctx, {
        orderId: event.orderId,
        subscriptionId: event.subscriptionId,
      });
      if (!order?.subscription_id) return ignored("no order for this subscription");
      await setOrderAccess(ctx, order, "revoked", ["active", "suspended"], {
        revokedReason: "subscription ended",
        endsAt: event.endedAt,
      });
      return done({ status: "processed", note: "subscription ended: access revoked" });
    }
    case "refunded": {
      const order = await findOrder(ctx, paymentKeys(event));
      if (!order) return ignored("no order for this payment");
      if (!event.full) return ignored("partial refund: access unchanged");
      // The buyer hears of it once: the notice is queued by the transition that happens once.
      const becameRefunded = await transition(ctx, order, "refunded");
      if (becameRefunded) {
        await queueRefundNotice(ctx, order.id);
        await recordWebhookEvent(ctx, "order.refunded", orderData(order, "refunded"), {
          productId: order.product_id,
        });
      }
      const notify = becameRefunded ? order.id : null;
      if (!(await policyOf(ctx, order)).refundRevokes)
        return done({ status: "processed", note: "refunded; access kept by setting" }, notify);
      await setOrderAccess(ctx, order, "revoked", ["active", "suspended"], {
        revokedReason: "refunded",
      });
      return done({ status: "processed", note: "refunded: access revoked" }, notify);
    }
    case "dispute_opened": {
      const order = await findOrder(ctx, paymentKeys(event));
      if (!order) return ignored("no order for this payment");
      await transition(ctx, order, "disputed");
      if (!(await policyOf(ctx, order)).disputeSuspends)
        return done({ status: "processed", note: "dispute opened; access kept by setting" });
      await setOrderAccess(ctx, order, "suspended", ["active"]);
      return done({ status: "processed", note: "dispute opened: access suspended" });
    }
    case "dispute_closed": {
      const order = await findOrder(ctx, paymentKeys(event));
      if (!order) return ignored("no order for this payment");
      if (event.won) {
        await transition(ctx, order, "won");
        await setOrderAccess(ctx, order, "active", ["suspended"]);
        return done({ status: "processed", note: "dispute won: access restored" });
      }
      await setOrderAccess(ctx, order, "revoked", ["active", "suspended"], {
        revokedReason: "dispute lost",
      });
      return done({ status: "processed", note: "dispute lost: access revoked" });
    }
  }
}

/** The grace policy of the order's product (decision 0020): what a refund or dispute does. */
async function policyOf(ctx: Ctx, order: Order) {
  const product = await db(ctx)
    .selectFrom("products")
    .select(["grace_past_due_days", "grace_refund_revokes", "grace_dispute_suspends"])
    .where("id", "=", order.product_id)
    .executeTakeFirstOrThrow();
  return gracePolicy(product, ctx.settings);
}

const paymentKeys = (p: PaymentRef) => ({
  orderId: p.orderId,
  paymentIntentId: p.paymentIntentId,
  subscriptionId: p.subscriptionId,
});

/** What the session checks need of the order's product. */
type ProductFacts = Pick<Product, "slug" | "stripe_price_id">;

/**
 * The order a session is about (by our id in its metadata, else by the session's id, as
 * findOrder) with its product's slug and price, in one query: the webhook's hot path.
 */
async function orderWithProduct(
  ctx: Ctx,
  checkout: CheckoutView,
): Promise<{ order: Order; product: ProductFacts } | undefined> {
  const by = async (column: "id" | "checkout_session_id", value: string | undefined) => {
    if (!value) return undefined;
    const { rows } = await sql<Order & { product_slug: string; product_price_id: string | null }>`
      select o.*, p.slug as product_slug, p.stripe_price_id as product_price_id
      from orders o join products p on p.id = o.product_id
      where ${sql.ref(`o.${column}`)} = ${value} order by o.created_at desc limit 1`.execute(
      db(ctx),
    );
    return rows[0];
  };
  const row =
    (await by("id", checkout.metadata.order)) ?? (await by("checkout_session_id", checkout.id));
  if (!row) return undefined;
  const { product_slug, product_price_id, ...order } = row;
  return { order, product: { slug: product_slug, stripe_price_id: product_price_id } };
}

async function onCheckout(
  ctx: Ctx,
  kind: PaymentEvent["kind"],
  checkout: CheckoutView,
): Promise<Fulfilment> {
  const found = await orderWithProduct(ctx, checkout);
  if (!found)
    return done({
      status: "flagged",
      note: "no order for this session: it was not started by this shop",
    });
  let { order } = found;
  const { product } = found;
  const mismatch = checkMatches(order, product, checkout);
  if (mismatch) return flag(ctx, order, mismatch);
  if (needsDetails(order, product, checkout))
    return { ...ignored("asking the provider for the session"), needsCheckoutDetails: true };

  const email = order.email ?? (checkout.email ? normalizeEmail(checkout.email) : null);
  const details: SessionDetails = {
    email,
    checkout_session_id: checkout.id,
    payment_intent_id: checkout.paymentIntentId ?? order.payment_intent_id,
    subscription_id: checkout.subscriptionId ?? order.subscription_id,
    customer_id: checkout.customerId ?? order.customer_id,
    ...chargedAmounts(order, checkout),
  };
  if (checkout.paymentStatus === "paid" || checkout.paymentStatus === "no_payment_required") {
    // Written with the transition to paid (one statement), or alone when there is none.
    return markPaid(ctx, order, checkout.subscriptionPeriodEnd, details);
  }
  await writeDetails(ctx, order.id, details);
  order = { ...order, ...details };
  if (kind === "checkout_async_failed") {
    await transition(ctx, order, "failed");
    return done({ status: "processed", note: "payment failed" });
  }
  return done({ status: "processed", note: "payment pending" });
}

/**
 * Whether the provider must be asked for the whole session (line items, the subscription) before
 * this event can be applied. Not when the event's own copy already matches the pending order it
 * names (checkMatches passed: our order and product in its metadata, our currency, an amount the
 * order allows): a one-time payment whose one line item we created, at a price or on a
 * chosen-price Price we made, where only the amount was the buyer's to choose.
 * A subscription needs its period, a provider price its line item's price id; an order that is
 * no longer pending is checked in full, as before.
 */
function needsDetails(order: Order, product: ProductFacts, checkout: CheckoutView): boolean {
  if (checkout.detailed) return false;
  const matchesPendingOrder =
    order.status === "pending" &&
    checkout.mode === "payment" &&
    checkout.metadata.order === order.id &&
    checkout.metadata.product === product.slug &&
    checkout.amountSubtotal !== null &&
    amountAllowed(order, checkout.amountSubtotal) &&
    !product.stripe_price_id;
  return !matchesPendingOrder;
}

/**
 * The session must be the one we created: our order, one item, our currency, and an amount the
 * order allows (its price, or a chosen one from its minimum: pricing.ts). Discounts and tax change
 * the total, never the subtotal, so a promotion code is no mismatch.
 */
function checkMatches(order: Order, product: ProductFacts, checkout: CheckoutView): string | null {
  if (order.checkout_session_id && order.checkout_session_id !== checkout.id)
    return "session is not the order's session";
  if (checkout.metadata.order && checkout.metadata.order !== order.id)
    return "session names another order";
  if (checkout.metadata.product && checkout.metadata.product !== product.slug)
    return `session is for product ${checkout.metadata.product}, the order for ${product.slug}`;
  if (checkout.currency?.toLowerCase() !== order.currency)
    return `currency ${checkout.currency} is not ${order.currency}`;
  if (checkout.amountSubtotal !== null && !amountAllowed(order, checkout.amountSubtotal))
    return amountMismatch(order, checkout.amountSubtotal);
  if (!checkout.lineItems) return null;
  const [item, ...extra] = checkout.lineItems;
  if (!item || extra.length) return `expected one line item, got ${checkout.lineItems.length}`;
  if (item.quantity !== 1) return `quantity ${item.quantity} is not 1`;
  if (item.currency.toLowerCase() !== order.currency)
    return `line item currency ${item.currency} is not ${order.currency}`;
  if (!amountAllowed(order, item.amountSubtotal))
    return `line item ${amountMismatch(order, item.amountSubtotal)}`;
  const priceId = order.price_id ?? product.stripe_price_id;
  if (priceId && item.priceId !== priceId) return `price ${item.priceId} is not ${priceId}`;
  return null;
}

const amountMismatch = (order: Order, paid: number) =>
  order.amount_minimum === null
    ? `amount ${paid} is not ${order.amount}`
    : `amount ${paid} is below the minimum ${order.amount_minimum}`;

async function flag(ctx: Ctx, order: Order, reason: string): Promise<Fulfilment> {
  await db(ctx)
    .updateTable("orders")
    .set({ flag: reason.slice(0, 300), updated_at: ctx.clock.now() })
    .where("id", "=", order.id)
    .where("flag", "is", null)
    .execute();
  ctx.log.warn("order flagged: no access granted", { orderId: order.id, reason });
  return done({ status: "flagged", note: reason });
}

/**
 * What a checkout session tells us about its order: the buyer's email, the provider's ids, and
 * what was charged (a chosen amount, the discount, the tax and the total; the business buyer's
 * tax IDs and country; the invoice).
 */
type SessionDetails = Pick<
  Order,
  "email" | "checkout_session_id" | "payment_intent_id" | "subscription_id" | "customer_id"
> &
  Partial<ChargedAmounts>;

type ChargedAmounts = Pick<
  Order,
  | "amount"
  | "amount_discount"
  | "amount_tax"
  | "amount_total"
  | "tax_ids"
  | "buyer_country"
  | "invoice_id"
>;

/** What the session says was charged; nothing while it is unpaid or the provider did not say. */
function chargedAmounts(order: Order, checkout: CheckoutView): Partial<ChargedAmounts> {
  if (checkout.amountTotal === null || checkout.amountSubtotal === null) return {};
  return {
    // A chosen price: the order is for what the buyer chose (checkMatches held it to the minimum).
    amount: order.amount_minimum === null ? order.amount : checkout.amountSubtotal,
    amount_discount: checkout.amountDiscount ?? 0,
    amount_tax: checkout.amountTax ?? 0,
    amount_total: checkout.amountTotal,
    tax_ids: checkout.taxIds.length
      ? checkout.taxIds.map((t) => `${t.type} ${t.value}`).join("\n")
      : order.tax_ids,
    buyer_country: checkout.country ?? order.buyer_country,
    invoice_id: checkout.invoiceId ?? order.invoice_id,
  };
}

async function writeDetails(ctx: Ctx, orderId: string, details: SessionDetails): Promise<void> {
  await db(ctx)
    .updateTable("orders")
    .set({ ...details, updated_at: ctx.clock.now() })
    .where("id", "=", orderId)
    .execute();
}

/**
 * Pending -> paid, and the entitlement; again for a paid order only re-asserts (or extends) it.
 * The transition also claims the receipt (receipt_sent_at; an order becoming paid has never had
 * one) and writes the session's details when given.
 */
async function markPaid(
  ctx: Ctx,
  unpaid: Order,
  periodEnd: number | null,
  details?: SessionDetails,
): Promise<Fulfilment> {
  const order = details ? { ...unpaid, ...details } : unpaid;
  const claimReceipt = order.receipt_sent_at === null ? { receipt_sent_at: ctx.clock.now() } : {};
  const becamePaid =
    !order.flag &&
    (await transition(ctx, order, "paid", {
      ...details,
      ...claimReceipt,
      paid_at: ctx.clock.now(),
    }));
  if (!becamePaid && details) await writeDetails(ctx, order.id, details);
  if (order.flag) return done({ status: "flagged", note: `order flagged earlier: ${order.flag}` });
  if (!becamePaid && order.status !== "paid")
    return ignored(`order is ${order.status}; not granting`);
  if (!order.email && !order.user_id) return flag(ctx, order, "no email or user to give access to");

  const endsAt = order.subscription_id && periodEnd ? periodEnd + RENEWAL_GRACE_MS : null;
  const entitlement = await grantAccess({
    ctx,
    input: {
      productId: order.product_id,
      owner: { userId: order.user_id, email: order.email },
      ...(order.subscription_id
        ? { source: "subscription" as const, sourceRef: order.subscription_id }
        : { source: "purchase" as const, sourceRef: order.id }),
      endsAt,
    },
  });
  if (endsAt && entitlement.status === "active" && (entitlement.ends_at ?? 0) < endsAt) {
    await db(ctx)
      .updateTable("entitlements")
      .set({ ends_at: endsAt, updated_at: ctx.clock.now() })
      .where("id", "=", entitlement.id)
      .execute();
  }
  if (!becamePaid)
    return done({ status: "processed", note: endsAt ? "subscription renewed" : "already paid" });
  const queued = order.receipt_sent_at === null && (await queueReceipt(ctx, order.id));
  await queueStamps(ctx, {
    productId: order.product_id,
    entitlementId: entitlement.id,
    orderId: order.id,
  });
  await recordWebhookEvent(ctx, "order.paid", orderData(order, "paid"), {
    productId: order.product_id,
  });
  ctx.log.info("order paid", { orderId: order.id, entitlementId: entitlement.id });
  return done({ status: "processed", note: "paid: access granted" }, queued ? order.id : null);
}

async function onSubscriptionChanged(
  ctx: Ctx,
  event: Extract<PaymentEvent, { kind: "subscription_changed" }>,
): Promise<Fulfilment> {
  const order = await findOrder(ctx, {
    orderId: event.orderId,
    subscriptionId: event.subscriptionId,
  });
  if (!order?.subscription_id) return ignored("no order for this subscription");
  if (event.status === "canceled" || event.status === "incomplete_expired") {
    await setOrderAccess(ctx, order, "revoked", ["active", "suspended"], {
      revokedReason: "subscription ended",
      endsAt: event.endedAt ?? ctx.clock.now(),
    });
    return done({ status: "processed", note: "subscription ended: access revoked" });
  }
  if (event.cancelAtPeriodEnd && event.periodEnd) {
    await setOrderAccess(ctx, order, "active", ["active"], { endsAt: event.periodEnd });
    return done({ status: "processed", note: "cancels at period end: access until then" });
  }
  if ((event.status === "active" || event.status === "trialing") && event.periodEnd) {
    await setOrderAccess(ctx, order, "active", ["active"], {
      endsAt: event.periodEnd + RENEWAL_GRACE_MS,
    });
    return done({ status: "processed", note: "subscription active: access until the period ends" });
  }
  // A failed renewal: the failed invoice's own event starts the product's past-due grace, if it
  // has one (decision 0020); without, access ends with the period paid for, as before.
  if (event.status === "past_due" || event.status === "unpaid")
    return ignored(`subscription is ${event.status}: access follows its failed invoice`);
  return ignored(`subscription is ${event.status}: access unchanged`);
}

/** What order.paid and order.refunded tell of an order (docs/webhooks.md). */
function orderData(order: Order, status: "paid" | "refunded") {
  return {
    orderId: order.id,
    reference: orderReference(order.id),
    status,
    email: order.email,
    userId: order.user_id,
    amount: Number(order.amount),
    amountDiscount: order.amount_discount === null ? null : Number(order.amount_discount),
    amountTax: order.amount_tax === null ? null : Number(order.amount_tax),
    amountTotal: order.amount_total === null ? null : Number(order.amount_total),
    currency: order.currency,
    paymentIntentId: order.payment_intent_id,
    subscriptionId: order.subscription_id,
    customerId: order.customer_id,
  };
}
