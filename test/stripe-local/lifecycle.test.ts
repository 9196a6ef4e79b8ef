import type Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Endpoint,
  localStripe,
  missingFields,
  payByCard,
  paymentSession,
  subscriptionSession,
  trigger,
  webhookEndpoint,
} from "./support.ts";

/** After the sale: refunds, disputes, renewals, cancellations; the events and object changes. */

let endpoint: Endpoint;
let local: Awaited<ReturnType<typeof localStripe>>;
let stripe: Stripe;

beforeEach(async () => {
  endpoint = await webhookEndpoint();
  local = await localStripe(endpoint.url);
  stripe = local.stripe;
});
afterEach(async () => {
  await local.close();
  await endpoint.close();
});

/** A paid session and what its payment sent (3 events for one-time, 4 for subscriptions). */
async function paid(kind: "payment" | "subscription") {
  const created = await (kind === "payment" ? paymentSession(stripe) : subscriptionSession(stripe));
  await payByCard(created);
  const count = kind === "payment" ? 3 : 4;
  await endpoint.waitForCount(count);
  const session = await stripe.checkout.sessions.retrieve(created.id);
  return { session, waitMore: (n: number) => endpoint.waitForCount(count + n) };
}

const eventsAfter = (received: { event: Stripe.Event }[], skip: number) =>
  received.slice(skip).map((r) => r.event);

describe("refunds", () => {
  it("refunds a payment intent in full: charge.refunded carries the payment intent", async () => {
    const { session, waitMore } = await paid("payment");
    const intent = String(session.payment_intent);
    const refund = await stripe.refunds.create({ payment_intent: intent });
    expect(missingFields(refund, "refund")).toEqual([]);
    expect(refund).toMatchObject({
      object: "refund",
      amount: 1900,
      currency: "usd",
      status: "succeeded",
      payment_intent: intent,
    });
    const [refunded, created] = eventsAfter(await waitMore(2), 3);
    expect(refunded?.type).toBe("charge.refunded");
    expect(refunded?.data.object).toMatchObject({
      object: "charge",
      payment_intent: intent,
      amount: 1900,
      amount_refunded: 1900,
      refunded: true,
    });
    expect(refunded?.data.previous_attributes).toEqual({ amount_refunded: 0, refunded: false });
    expect(created?.type).toBe("refund.created");
    expect(created?.data.object).toMatchObject({ id: refund.id });

    const charge = await stripe.charges.retrieve(String(refund.charge));
    expect(charge).toMatchObject({ amount_refunded: 1900, refunded: true });
    expect(charge.refunds?.data.map((r) => r.id)).toEqual([refund.id]);
    await expect(stripe.refunds.create({ payment_intent: intent })).rejects.toMatchObject({
      statusCode: 400,
      code: "charge_already_refunded",
    });
  });

  it("refunds part of a charge, then the rest", async () => {
    const { session, waitMore } = await paid("payment");
    const intent = await stripe.paymentIntents.retrieve(String(session.payment_intent));
    const charge = String(intent.latest_charge);
    await stripe.refunds.create({ charge, amount: 500 });
    expect(await stripe.charges.retrieve(charge)).toMatchObject({
      amount_refunded: 500,
      refunded: false,
    });
    await expect(stripe.refunds.create({ charge, amount: 1500 })).rejects.toMatchObject({
      statusCode: 400,
      code: "amount_too_large",
    });
    const rest = await stripe.refunds.create({ charge });
    expect(rest.amount).toBe(1400);
    const events = eventsAfter(await waitMore(4), 3);
    expect(events.map((e) => e.type)).toEqual([
      "charge.refunded",
      "refund.created",
      "charge.refunded",
      "refund.created",
    ]);
    expect(events[0]?.data.object).toMatchObject({ refunded: false, amount_refunded: 500 });
    expect(events[2]?.data.object).toMatchObject({ refunded: true, amount_refunded: 1900 });
  });

  it("refunds by Checkout Session through the local trigger", async () => {
    const { session, waitMore } = await paid("payment");
    const { status, body } = await trigger(local.url, "/refunds", { id: session.id });
    expect(status).toBe(200);
    expect(body.message).toMatch(/^Refunded \$19\.00 of pi_/);
    expect(body.events).toEqual(["charge.refunded", "refund.created"]);
    await waitMore(2);
  });
});

describe("disputes", () => {
  it("opens a dispute by session id and closes it as won", async () => {
    const { session, waitMore } = await paid("payment");
    const opened = await trigger<Stripe.Dispute>(local.url, "/disputes", { id: session.id });
    expect(opened.status).toBe(200);
    const dispute = opened.body.object;
    expect(dispute.id).toMatch(/^dp_/);
    expect(missingFields(dispute, "dispute")).toEqual([]);
    expect(dispute).toMatchObject({
      status: "needs_response",
      amount: 1900,
      payment_intent: session.payment_intent,
    });
    expect(dispute.charge).toMatch(/^ch_/);
    expect((await stripe.charges.retrieve(String(dispute.charge))).disputed).toBe(true);

    const closed = await trigger<Stripe.Dispute>(local.url, `/disputes/${dispute.id}/close`, {
      outcome: "won",
    });
    expect(closed.body.object.status).toBe("won");
    const events = eventsAfter(await waitMore(2), 3);
    expect(events.map((e) => e.type)).toEqual(["charge.dispute.created", "charge.dispute.closed"]);
    expect(events[0]?.data.object).toMatchObject({
      id: dispute.id,
      status: "needs_response",
      charge: dispute.charge,
      payment_intent: session.payment_intent,
    });
    expect(events[1]?.data.object).toMatchObject({ id: dispute.id, status: "won" });
    expect(events[1]?.data.previous_attributes).toEqual({ status: "needs_response" });

    const again = await trigger(local.url, `/disputes/${dispute.id}/close`, { outcome: "lost" });
    expect(again.status).toBe(400);
    expect(again.body.error?.message).toMatch(/already closed/);
  });

  it("a lost dispute closes as lost; a disputed charge cannot be refunded", async () => {
    const { session } = await paid("payment");
    const opened = await trigger<Stripe.Dispute>(local.url, "/disputes", {
      id: String(session.payment_intent),
    });
    await expect(
      stripe.refunds.create({ payment_intent: String(session.payment_intent) }),
    ).rejects.toMatchObject({ statusCode: 400, code: "charge_disputed" });
    const closed = await trigger<Stripe.Dispute>(
      local.url,
      `/disputes/${opened.body.object.id}/close`,
      { outcome: "lost" },
    );
    expect(closed.body.object.status).toBe("lost");
  });
});

describe("subscriptions", () => {
  it("renews: next period, a new paid invoice, and the events with it", async () => {
    const { session, waitMore } = await paid("subscription");
    const before = await stripe.subscriptions.retrieve(String(session.subscription));
    const oldEnd = before.items.data[0]?.current_period_end ?? 0;

    const renewed = await trigger(local.url, `/subscriptions/${session.id}/renew`);
    expect(renewed.status).toBe(200);
    expect(renewed.body.message).toMatch(/^Renewed sub_/);
    const events = eventsAfter(await waitMore(3), 4);
    expect(events.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
    const subscription = events[0]?.data.object as Stripe.Subscription;
    const item = subscription.items.data[0];
    expect(item?.current_period_start).toBe(oldEnd);
    expect(item?.current_period_end).toBeGreaterThan(oldEnd + 27 * 86400);
    expect(events[0]?.data.previous_attributes).toHaveProperty("items");
    const invoice = events[1]?.data.object as Stripe.Invoice;
    expect(invoice).toMatchObject({
      status: "paid",
      billing_reason: "subscription_cycle",
      amount_paid: 900,
      parent: {
        subscription_details: { subscription: subscription.id, metadata: { order: "ord_sub" } },
      },
    });
    expect(invoice.lines.data[0]?.period).toEqual({
      start: item?.current_period_start,
      end: item?.current_period_end,
    });
    expect(invoice.id).not.toBe(session.invoice);
    expect((await stripe.subscriptions.retrieve(subscription.id)).latest_invoice).toBe(invoice.id);
  });

  it("cancels at period end, and the next renewal ends it", async () => {
    const { session, waitMore } = await paid("subscription");
    const id = String(session.subscription);
    const updated = await stripe.subscriptions.update(id, { cancel_at_period_end: true });
    const periodEnd = updated.items.data[0]?.current_period_end;
    expect(updated).toMatchObject({
      status: "active",
      cancel_at_period_end: true,
      cancel_at: periodEnd,
    });
    expect(updated.canceled_at).toBeGreaterThan(0);

    await trigger(local.url, `/subscriptions/${id}/renew`);
    const events = eventsAfter(await waitMore(2), 4);
    expect(events.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ]);
    expect(events[0]?.data.object).toMatchObject({ cancel_at_period_end: true });
    expect(events[0]?.data.previous_attributes).toMatchObject({ cancel_at_period_end: false });
    expect(events[1]?.data.object).toMatchObject({ status: "canceled" });
    const ended = events[1]?.data.object as Stripe.Subscription | undefined;
    expect(ended?.ended_at).toBeGreaterThan(0);
  });

  it("cancels now through the API, and through the trigger at period end", async () => {
    const { session, waitMore } = await paid("subscription");
    const id = String(session.subscription);
    const viaTrigger = await trigger<Stripe.Subscription>(
      local.url,
      `/subscriptions/${session.id}/cancel`,
      {
        at_period_end: true,
      },
    );
    expect(viaTrigger.body.object.cancel_at_period_end).toBe(true);

    const canceled = await stripe.subscriptions.cancel(id);
    expect(canceled).toMatchObject({ status: "canceled" });
    expect(canceled.ended_at).toBeGreaterThan(0);
    const events = eventsAfter(await waitMore(2), 4);
    expect(events.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ]);
    await expect(
      stripe.subscriptions.update(id, { cancel_at_period_end: false }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
    expect((await trigger(local.url, `/subscriptions/${id}/renew`)).status).toBe(400);
  });
});

describe("local triggers", () => {
  it("expire sessions and answer unknown ids with 404", async () => {
    const session = await paymentSession(stripe);
    const expired = await trigger(local.url, `/sessions/${session.id}/expire`);
    expect(expired.body).toMatchObject({
      message: `Expired ${session.id}. Sent checkout.session.expired.`,
      events: ["checkout.session.expired"],
    });
    expect((await trigger(local.url, "/refunds", { id: "pi_nope" })).status).toBe(404);
    expect((await trigger(local.url, "/subscriptions/sub_nope/renew")).status).toBe(404);
    const unpaid = await trigger(local.url, "/refunds", {
      id: (await paymentSession(stripe)).id,
    });
    expect(unpaid.status).toBe(400);
    expect(unpaid.body.error?.message).toMatch(/has not been paid/);
    const form = await fetch(`${local.url}/_local/refunds`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `id=${session.id}`,
    });
    expect(form.status).toBe(415);
  });
});
