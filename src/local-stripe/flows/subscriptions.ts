import type Stripe from "stripe";
import type { Engine, RequestInfo } from "../engine.ts";
import { badRequest } from "../errors.ts";
import { unixNow } from "../ids.ts";
import { newInvoice } from "../invoiceObject.ts";
import {
  type Interval,
  newCustomer,
  newPaymentIntent,
  newSubscription,
  type Period,
} from "../objects.ts";
import { nextPeriodEnd } from "../periods.ts";
import { chargeIntent } from "./charges.ts";
import { invoiceBuyer, invoiceLines, linkInvoicePages } from "./invoices.ts";

/** The customer, active subscription and first paid invoice of a subscription checkout. */
export function startSubscription(engine: Engine, session: Stripe.Checkout.Session, email: string) {
  const items = engine.state.lineItems[session.id] ?? [];
  const quote = engine.state.checkoutSetup[session.id]?.quote;
  const setup = engine.state.checkoutSetup[session.id]?.subscriptionData;
  const now = unixNow();
  const recurringItems = items.filter((item) => item.price?.recurring);
  const first = recurringItems[0]?.price?.recurring;
  if (!first) throw badRequest("This Checkout Session has no recurring price.", "session");
  const period = {
    start: now,
    end: nextPeriodEnd(now, first.interval as Interval, first.interval_count, now),
  };

  const customer = newCustomer(email, quote);
  engine.state.customers[customer.id] = customer;
  const subscription = newSubscription({
    customer: customer.id,
    currency: session.currency ?? "usd",
    items: recurringItems.map((item) => ({
      price: item.price as Stripe.Price,
      quantity: item.quantity ?? 1,
    })),
    metadata: setup?.metadata ?? {},
    description: setup?.description ?? null,
    period,
  });
  if (quote?.automaticTax)
    subscription.automatic_tax = {
      enabled: true,
      liability: { type: "self" },
      disabled_reason: null,
    };
  engine.state.subscriptions[subscription.id] = subscription;
  // The first invoice also carries one-time items, for the moment of purchase only.
  const invoice = payInvoice(engine, customer, subscription, {
    lines: invoiceLines(engine, items, quote, (item) =>
      item.price?.recurring ? period : { start: now, end: now },
    ),
    billingReason: "subscription_create",
    invoicePeriod: { start: now, end: now },
    buyer: invoiceBuyer(quote),
  });
  return { customer, subscription, invoice };
}

const lineDescription = (quantity: number, name: string) => `${quantity} × ${name}`;

/** A paid invoice, with the payment intent and charge that paid it. */
function payInvoice(
  engine: Engine,
  customer: Stripe.Customer,
  subscription: Stripe.Subscription,
  input: Omit<Parameters<typeof newInvoice>[0], "customer" | "subscription">,
): Stripe.Invoice {
  const invoice = newInvoice({ customer, subscription, ...input });
  linkInvoicePages(engine, invoice);
  engine.state.invoices[invoice.id] = invoice;
  const intent = newPaymentIntent({
    amount: invoice.total,
    currency: invoice.currency,
    customer: customer.id,
    description:
      input.billingReason === "subscription_create"
        ? "Subscription creation"
        : "Subscription update",
    metadata: {},
    methodType: "card",
    status: "processing",
  });
  engine.state.paymentIntents[intent.id] = intent;
  chargeIntent(engine, intent, customer.email);
  engine.state.invoicePayments[invoice.id] = intent.id;
  subscription.latest_invoice = invoice.id;
  return invoice;
}

function activeSubscription(engine: Engine, id: string): Stripe.Subscription {
  const subscription = engine.subscription(id);
  if (subscription.status === "canceled")
    throw badRequest(
      `This subscription is canceled (it ended at ${subscription.ended_at}); it cannot change any more.`,
      "subscription",
    );
  return subscription;
}

function currentPeriod(subscription: Stripe.Subscription): Period {
  const item = subscription.items.data[0];
  return { start: item?.current_period_start ?? 0, end: item?.current_period_end ?? 0 };
}

/**
 * The billing period rolls over now: a new paid invoice for the next period, or, for a
 * subscription set to cancel at period end, its end. With `fail`, the renewal's payment is
 * declined: the invoice stays open and the subscription goes past_due, with
 * `customer.subscription.updated` and `invoice.payment_failed` as Stripe sends them; the
 * invoice can then be paid (payOpenInvoice).
 */
export function renewSubscription(
  engine: Engine,
  id: string,
  opts: { fail?: boolean } = {},
): { subscription: Stripe.Subscription; invoice: Stripe.Invoice | null } {
  const subscription = activeSubscription(engine, id);
  if (subscription.status === "past_due")
    throw badRequest(
      `This subscription is past_due: pay its open invoice ${subscription.latest_invoice} first.`,
      "subscription",
    );
  if (subscription.cancel_at_period_end) {
    endSubscription(engine, subscription);
    return { subscription, invoice: null };
  }
  const customer = engine.customer(String(subscription.customer));
  const old = currentPeriod(subscription);
  const recurring = subscription.items.data[0]?.price.recurring;
  const period = {
    start: old.end,
    end: nextPeriodEnd(
      subscription.billing_cycle_anchor,
      (recurring?.interval ?? "month") as Interval,
      recurring?.interval_count ?? 1,
      old.end,
    ),
  };
  const previous = {
    items: structuredClone(subscription.items),
    latest_invoice: subscription.latest_invoice,
  };
  for (const item of subscription.items.data) {
    item.current_period_start = period.start;
    item.current_period_end = period.end;
  }
  const renewal = {
    lines: subscription.items.data.map((item) => ({
      price: item.price,
      quantity: item.quantity ?? 1,
      description: lineDescription(item.quantity ?? 1, productName(engine, item.price)),
      period,
    })),
    billingReason: "subscription_cycle" as const,
    invoicePeriod: old,
  };
  if (opts.fail) {
    const invoice = openInvoice(engine, customer, subscription, renewal);
    subscription.status = "past_due";
    engine.emit("customer.subscription.updated", subscription, {
      previous: { ...previous, status: "active" },
    });
    engine.emit("invoice.payment_failed", invoice);
    return { subscription, invoice };
  }
  const invoice = payInvoice(engine, customer, subscription, renewal);
  engine.emit("customer.subscription.updated", subscription, { previous });
  engine.emit("invoice.paid", invoice);
  engine.emit("invoice.payment_succeeded", invoice);
  return { subscription, invoice };
}

/** A renewal invoice whose payment was declined: open, with Stripe's next retry a day later. */
function openInvoice(
  engine: Engine,
  customer: Stripe.Customer,
  subscription: Stripe.Subscription,
  input: Omit<Parameters<typeof newInvoice>[0], "customer" | "subscription">,
): Stripe.Invoice {
  const invoice = newInvoice({ customer, subscription, ...input });
  Object.assign(invoice, {
    status: "open",
    amount_paid: 0,
    amount_remaining: invoice.total,
    next_payment_attempt: unixNow() + 24 * 3600,
    status_transitions: { ...invoice.status_transitions, paid_at: null },
  } satisfies Partial<Stripe.Invoice>);
  linkInvoicePages(engine, invoice);
  engine.state.invoices[invoice.id] = invoice;
  subscription.latest_invoice = invoice.id;
  return invoice;
}

/**
 * The buyer pays an open invoice (another card, on the invoice's page): a payment intent and
 * charge pay it, a past_due subscription is active again, with `invoice.paid`,
 * `invoice.payment_succeeded` and `customer.subscription.updated`.
 */
export function payOpenInvoice(engine: Engine, id: string): Stripe.Invoice {
  const invoice = engine.invoice(id, "invoice");
  if (invoice.status !== "open")
    throw badRequest(`Invoice ${id} is ${invoice.status}, not open.`, "invoice");
  const subscriptionId = String(invoice.parent?.subscription_details?.subscription ?? "");
  const subscription = activeSubscription(engine, subscriptionId);
  const customer = engine.customer(String(subscription.customer));
  const intent = newPaymentIntent({
    amount: invoice.total,
    currency: invoice.currency,
    customer: customer.id,
    description: "Subscription update",
    metadata: {},
    methodType: "card",
    status: "processing",
  });
  engine.state.paymentIntents[intent.id] = intent;
  chargeIntent(engine, intent, customer.email);
  engine.state.invoicePayments[invoice.id] = intent.id;
  const now = unixNow();
  Object.assign(invoice, {
    status: "paid",
    amount_paid: invoice.total,
    amount_remaining: 0,
    attempt_count: invoice.attempt_count + 1,
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, paid_at: now },
  } satisfies Partial<Stripe.Invoice>);
  engine.emit("invoice.paid", invoice);
  engine.emit("invoice.payment_succeeded", invoice);
  if (subscription.status === "past_due" && subscription.latest_invoice === invoice.id) {
    subscription.status = "active";
    engine.emit("customer.subscription.updated", subscription, {
      previous: { status: "past_due" },
    });
  }
  return invoice;
}

const productName = (engine: Engine, price: Stripe.Price) =>
  (typeof price.product === "string" ? engine.state.products[price.product]?.name : null) ?? "";

/** Ends a subscription now, with `customer.subscription.deleted`. */
export function cancelSubscription(
  engine: Engine,
  id: string,
  request?: RequestInfo,
): Stripe.Subscription {
  const subscription = activeSubscription(engine, id);
  const now = unixNow();
  subscription.canceled_at = now;
  if (subscription.cancellation_details)
    subscription.cancellation_details.reason = "cancellation_requested";
  endSubscription(engine, subscription, request);
  return subscription;
}

function endSubscription(engine: Engine, subscription: Stripe.Subscription, request?: RequestInfo) {
  const now = unixNow();
  subscription.status = "canceled";
  subscription.ended_at = now;
  subscription.canceled_at ??= now;
  engine.emit("customer.subscription.deleted", subscription, request ? { request } : {});
}

/** `cancel_at_period_end` and `metadata` changes, with `customer.subscription.updated`. */
export function updateSubscription(
  engine: Engine,
  id: string,
  change: { cancelAtPeriodEnd?: boolean; metadata?: Record<string, string> },
  request?: RequestInfo,
): Stripe.Subscription {
  const subscription = activeSubscription(engine, id);
  const previous: Record<string, unknown> = {};
  if (
    change.cancelAtPeriodEnd !== undefined &&
    change.cancelAtPeriodEnd !== subscription.cancel_at_period_end
  ) {
    Object.assign(previous, {
      cancel_at: subscription.cancel_at,
      cancel_at_period_end: subscription.cancel_at_period_end,
      canceled_at: subscription.canceled_at,
      cancellation_details: structuredClone(subscription.cancellation_details),
    });
    const canceling = change.cancelAtPeriodEnd;
    subscription.cancel_at_period_end = canceling;
    subscription.cancel_at = canceling ? currentPeriod(subscription).end : null;
    subscription.canceled_at = canceling ? unixNow() : null;
    if (subscription.cancellation_details)
      subscription.cancellation_details.reason = canceling ? "cancellation_requested" : null;
  }
  if (change.metadata !== undefined) {
    previous.metadata = { ...subscription.metadata };
    subscription.metadata = mergeMetadata(subscription.metadata, change.metadata);
  }
  if (Object.keys(previous).length > 0)
    engine.emit("customer.subscription.updated", subscription, {
      previous,
      ...(request ? { request } : {}),
    });
  return subscription;
}

/** Stripe merges metadata updates; an empty value deletes the key. */
function mergeMetadata(current: Record<string, string>, update: Record<string, string>) {
  const merged = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === "") delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
