import type Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Endpoint,
  localStripe,
  missingFields,
  payByCard,
  paymentSession,
  sleep,
  submitCheckout,
  subscriptionSession,
  webhookEndpoint,
} from "./support.ts";

/** The hosted checkout page, and the events each way of paying sends (verified like Tollgate). */

let endpoint: Endpoint;
let local: Awaited<ReturnType<typeof localStripe>>;
let stripe: Stripe;

// A fresh local Stripe and endpoint per test, so each sees only its own events.
beforeEach(async () => {
  endpoint = await webhookEndpoint();
  local = await localStripe(endpoint.url, { asyncDelayMs: 150 });
  stripe = local.stripe;
});
afterEach(async () => {
  await local.close();
  await endpoint.close();
});

const objectOf = <T>(event: Stripe.Event) => event.data.object as T;

describe("the hosted page", () => {
  it("shows the item, the price, the email and the test cards", async () => {
    const session = await paymentSession(stripe);
    const response = await fetch(session.url ?? "");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain("Local test checkout");
    expect(html).toContain("Starter Kit");
    expect(html).toContain("$19.00");
    expect(html).toContain('value="buyer@example.com"');
    expect(html).toContain('<label for="email">');
    expect(html).toContain('<label for="card_number">');
    expect(html).toContain("4242 4242 4242 4242");
    expect(html).toContain("4000 0000 0000 0002");
    expect(html).toContain("Bank transfer (settles in a few seconds)");
    expect(html).toContain("Bank transfer that fails");
    expect(html).toContain('href="http://shop.test/p/starter-kit"');
    expect(html).toContain('name="viewport"');
  });

  it("says an unknown or expired session cannot be paid", async () => {
    expect((await fetch(`${local.url}/checkout/cs_test_nope`)).status).toBe(404);
    const session = await paymentSession(stripe);
    await stripe.checkout.sessions.expire(session.id);
    const page = await fetch(session.url ?? "");
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("This checkout has expired");
    expect((await payByCard(session)).status).toBe(410);
  });
});

describe("paying by card", () => {
  it("4242 pays a one-time session and sends the events in Stripe's order", async () => {
    const session = await paymentSession(stripe);
    const response = await payByCard(session);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(
      `http://shop.test/checkout/success?session_id=${session.id}`,
    );

    const received = await endpoint.waitForCount(3);
    expect(received.map((r) => r.event.type)).toEqual([
      "payment_intent.succeeded",
      "charge.succeeded",
      "checkout.session.completed",
    ]);
    for (const { signature } of received) expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const [intentEvent, chargeEvent, completedEvent] = received.map((r) => r.event);
    const intent = objectOf<Stripe.PaymentIntent>(intentEvent as Stripe.Event);
    const charge = objectOf<Stripe.Charge>(chargeEvent as Stripe.Event);
    const completed = objectOf<Stripe.Checkout.Session>(completedEvent as Stripe.Event);
    expect(missingFields(intent, "payment_intent")).toEqual([]);
    expect(missingFields(charge, "charge")).toEqual([]);
    expect(intent).toMatchObject({
      status: "succeeded",
      amount: 1900,
      amount_received: 1900,
      currency: "usd",
      metadata: { order: "ord_123" },
      latest_charge: charge.id,
    });
    expect(charge).toMatchObject({
      status: "succeeded",
      paid: true,
      amount: 1900,
      payment_intent: intent.id,
      refunded: false,
      billing_details: { email: "buyer@example.com" },
      payment_method_details: { type: "card", card: { last4: "4242", brand: "visa" } },
    });
    expect(completed).toMatchObject({
      id: session.id,
      status: "complete",
      payment_status: "paid",
      payment_intent: intent.id,
      customer_details: { email: "buyer@example.com" },
      metadata: { order: "ord_123" },
    });

    const retrieved = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["payment_intent"],
    });
    expect(retrieved.payment_intent).toMatchObject({ id: intent.id, status: "succeeded" });
    expect((await stripe.charges.retrieve(charge.id)).amount).toBe(1900);

    const page = await fetch(session.url ?? "");
    expect(await page.text()).toContain("Payment received");
    expect((await payByCard(session)).status).toBe(409);
  });

  it("4242 starts a subscription with its first paid invoice", async () => {
    const session = await subscriptionSession(stripe);
    const response = await payByCard(session);
    expect(response.status).toBe(303);
    const received = await endpoint.waitForCount(4);
    expect(received.map((r) => r.event.type)).toEqual([
      "customer.subscription.created",
      "invoice.paid",
      "invoice.payment_succeeded",
      "checkout.session.completed",
    ]);
    const subscription = objectOf<Stripe.Subscription>(received[0]?.event as Stripe.Event);
    const invoice = objectOf<Stripe.Invoice>(received[1]?.event as Stripe.Event);
    expect(missingFields(subscription, "subscription")).toEqual([]);
    // `invoice.subscription` left the API in 2025-03-31; the parent says which subscription.
    expect(missingFields(invoice, "invoice")).toEqual(["subscription"]);
    const item = subscription.items.data[0];
    expect(subscription).toMatchObject({
      status: "active",
      metadata: { order: "ord_sub" },
      cancel_at_period_end: false,
      ended_at: null,
      canceled_at: null,
      currency: "eur",
    });
    const start = new Date((item?.current_period_start ?? 0) * 1000);
    const end = new Date((item?.current_period_end ?? 0) * 1000);
    expect(end.getUTCMonth()).toBe((start.getUTCMonth() + 1) % 12);
    expect(invoice).toMatchObject({
      status: "paid",
      billing_reason: "subscription_create",
      amount_paid: 900,
      customer: subscription.customer,
      parent: {
        type: "subscription_details",
        subscription_details: { subscription: subscription.id, metadata: { order: "ord_sub" } },
      },
    });
    expect(invoice.lines.data[0]?.period).toEqual({
      start: item?.current_period_start,
      end: item?.current_period_end,
    });

    const retrieved = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription"],
    });
    expect(retrieved).toMatchObject({
      status: "complete",
      payment_status: "paid",
      customer: subscription.customer,
      invoice: invoice.id,
      payment_intent: null,
      subscription: { id: subscription.id, status: "active" },
    });
    expect((await stripe.subscriptions.retrieve(subscription.id)).metadata).toEqual({
      order: "ord_sub",
    });
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe("paid");
  });

  it("4000 0000 0000 0002 is declined: 402, an alert, nothing changes", async () => {
    const session = await paymentSession(stripe);
    const response = await submitCheckout(session, {
      method: "card",
      card_number: "4000000000000002",
    });
    expect(response.status).toBe(402);
    expect(await response.text()).toMatch(/role="alert"[^>]*>\s*Your card was declined\./);
    await sleep(100);
    expect(endpoint.received).toEqual([]);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
  });

  it("any other number asks for a test card", async () => {
    const session = await paymentSession(stripe);
    const response = await submitCheckout(session, {
      method: "card",
      card_number: "5555 5555 5555 4444",
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Use a test card");
  });
});

describe("paying by bank transfer", () => {
  it("completes unpaid, then pays a moment later", async () => {
    const session = await paymentSession(stripe);
    const response = await submitCheckout(session, { method: "bank_transfer" });
    expect(response.status).toBe(303);
    const [completed] = await endpoint.waitForCount(1);
    expect(completed?.event.type).toBe("checkout.session.completed");
    expect(completed?.event.data.object).toMatchObject({
      status: "complete",
      payment_status: "unpaid",
    });
    const intentId = (completed?.event.data.object as Stripe.Checkout.Session | undefined)
      ?.payment_intent;
    expect((await stripe.paymentIntents.retrieve(String(intentId))).status).toBe("processing");

    const received = await endpoint.waitForCount(4);
    expect(received.map((r) => r.event.type)).toEqual([
      "checkout.session.completed",
      "payment_intent.succeeded",
      "charge.succeeded",
      "checkout.session.async_payment_succeeded",
    ]);
    expect(received[3]?.event.data.object).toMatchObject({
      id: session.id,
      payment_status: "paid",
    });
    const intent = await stripe.paymentIntents.retrieve(String(intentId));
    expect(intent).toMatchObject({ status: "succeeded", metadata: { order: "ord_123" } });
    expect(await stripe.charges.retrieve(String(intent.latest_charge))).toMatchObject({
      payment_method_details: { type: "us_bank_account" },
    });
  });

  it("the failing transfer ends with payment_failed and async_payment_failed", async () => {
    const session = await paymentSession(stripe);
    expect((await submitCheckout(session, { method: "bank_transfer_fail" })).status).toBe(303);
    const received = await endpoint.waitForCount(3);
    expect(received.map((r) => r.event.type)).toEqual([
      "checkout.session.completed",
      "payment_intent.payment_failed",
      "checkout.session.async_payment_failed",
    ]);
    const intent = received[1]?.event.data.object as Stripe.PaymentIntent;
    expect(intent.status).toBe("requires_payment_method");
    expect(intent.last_payment_error?.message).toBeTruthy();
    expect(received[2]?.event.data.object).toMatchObject({
      status: "complete",
      payment_status: "unpaid",
    });
  });
});
