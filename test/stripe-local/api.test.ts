import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/adapters/log-console/index.ts";
import { createLocalStripe } from "../../src/local-stripe/index.ts";
import {
  type Endpoint,
  localStripe,
  missingFields,
  paymentSession,
  subscriptionSession,
  waitFor,
  webhookEndpoint,
} from "./support.ts";

/** The `/v1` API through the official SDK, as Tollgate calls it. */

let endpoint: Endpoint;
let local: Awaited<ReturnType<typeof localStripe>>;
let stripe: Stripe;

beforeAll(async () => {
  endpoint = await webhookEndpoint();
  local = await localStripe(endpoint.url);
  stripe = local.stripe;
});
afterAll(async () => {
  await local.close();
  await endpoint.close();
});

describe("checkout sessions", () => {
  it("creates a payment session shaped like Stripe's", async () => {
    const before = Math.floor(Date.now() / 1000);
    const session = await paymentSession(stripe);
    expect(missingFields(session, "checkout.session")).toEqual([]);
    expect(session.id).toMatch(/^cs_test_a1[A-Za-z0-9]{58}$/);
    expect(session).toMatchObject({
      object: "checkout.session",
      mode: "payment",
      status: "open",
      payment_status: "unpaid",
      amount_subtotal: 1900,
      amount_total: 1900,
      currency: "usd",
      livemode: false,
      client_reference_id: "ord_123",
      customer_email: "buyer@example.com",
      metadata: { order: "ord_123" },
      payment_intent: null,
      customer: null,
      subscription: null,
      success_url: "http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "http://shop.test/p/starter-kit",
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    });
    expect(session.url).toBe(`${local.url}/checkout/${session.id}`);
    expect(session.created).toBeGreaterThanOrEqual(before);
    expect(session.expires_at - session.created).toBe(24 * 3600);
    expect(session.line_items).toBeUndefined();
  });

  it("returns line items when expanded, and lists them", async () => {
    const created = await paymentSession(stripe);
    const session = await stripe.checkout.sessions.retrieve(created.id, {
      expand: ["line_items"],
    });
    const item = session.line_items?.data[0];
    expect(session.line_items).toMatchObject({ object: "list", has_more: false });
    expect(item && missingFields(item, "item")).toEqual([]);
    expect(item).toMatchObject({
      object: "item",
      description: "Starter Kit",
      quantity: 1,
      currency: "usd",
      amount_subtotal: 1900,
      amount_total: 1900,
      price: { object: "price", type: "one_time", unit_amount: 1900, recurring: null },
    });
    expect(item?.id).toMatch(/^li_/);
    expect(item?.price?.id).toMatch(/^price_/);
    expect(missingFields(item?.price ?? {}, "price")).toEqual([]);

    const listed = await stripe.checkout.sessions.listLineItems(created.id);
    expect(listed.data.map((i) => i.id)).toEqual([item?.id]);
  });

  it("creates a subscription session with a recurring price", async () => {
    const created = await subscriptionSession(stripe);
    const session = await stripe.checkout.sessions.retrieve(created.id, {
      expand: ["line_items", "subscription"],
    });
    expect(session).toMatchObject({
      mode: "subscription",
      currency: "eur",
      amount_total: 900,
      subscription: null,
      payment_intent: null,
    });
    expect(session.line_items?.data[0]?.price).toMatchObject({
      type: "recurring",
      recurring: { interval: "month", interval_count: 1 },
    });
  });

  it("accepts a price created beforehand", async () => {
    const price = await stripe.prices.create({
      currency: "usd",
      unit_amount: 500,
      product_data: { name: "Sticker pack" },
    });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 3 }],
      success_url: "http://shop.test/ok",
    });
    expect(session.amount_total).toBe(1500);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data[0]).toMatchObject({ description: "Sticker pack", quantity: 3 });
    expect(items.data[0]?.price?.id).toBe(price.id);
  });

  it("answers a retried request with the same Idempotency-Key with the first result", async () => {
    const params = {
      mode: "payment" as const,
      line_items: [
        {
          quantity: 1,
          price_data: { currency: "usd", unit_amount: 100, product_data: { name: "x" } },
        },
      ],
    };
    const a = await stripe.checkout.sessions.create(params, { idempotencyKey: "key-1" });
    const b = await stripe.checkout.sessions.create(params, { idempotencyKey: "key-1" });
    expect(b.id).toBe(a.id);
  });

  it("expires an open session, once", async () => {
    const created = await paymentSession(stripe);
    const expired = await stripe.checkout.sessions.expire(created.id);
    expect(expired).toMatchObject({ status: "expired", url: null });
    await expect(stripe.checkout.sessions.expire(created.id)).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
    });
    const about = (r: { event: Stripe.Event }) =>
      (r.event.data.object as { id?: string }).id === created.id;
    await waitFor(() => endpoint.received.some(about), "the expired event");
    expect(endpoint.received.filter(about).map((r) => r.event.type)).toEqual([
      "checkout.session.expired",
    ]);
  });
});

describe("errors", () => {
  it("answers an unknown id with a 404 the SDK raises as StripeInvalidRequestError", async () => {
    const error = await stripe.checkout.sessions.retrieve("cs_test_nope").catch((e) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: "resource_missing" });
    expect(error.message).toBe("No such checkout.session: 'cs_test_nope'");
    for (const call of [
      () => stripe.paymentIntents.retrieve("pi_nope"),
      () => stripe.charges.retrieve("ch_nope"),
      () => stripe.subscriptions.retrieve("sub_nope"),
      () => stripe.invoices.retrieve("in_nope"),
      () => stripe.events.retrieve("evt_nope"),
      () => stripe.refunds.create({ payment_intent: "pi_nope" }),
    ])
      await expect(call()).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("refuses bad parameters with a 400 naming the parameter", async () => {
    const bad = (params: Record<string, unknown>) =>
      stripe.checkout.sessions
        .create(params as Stripe.Checkout.SessionCreateParams)
        .catch((e: Stripe.errors.StripeError) => e);
    const line = {
      quantity: 1,
      price_data: { currency: "usd", unit_amount: 100, product_data: { name: "x" } },
    };

    const noMode = await bad({ line_items: [line] });
    expect(noMode).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(noMode).toMatchObject({ statusCode: 400, param: "mode" });

    expect(await bad({ mode: "payment", line_items: [line], colour: "red" })).toMatchObject({
      statusCode: 400,
      message: "Received unknown parameter: colour",
    });
    expect(
      await bad({ mode: "payment", line_items: [{ ...line, quantity: "two" }] }),
    ).toMatchObject({ statusCode: 400, param: "line_items[0][quantity]" });
    expect(
      await bad({
        mode: "payment",
        line_items: [{ quantity: 1, price_data: { ...line.price_data, currency: "dollars" } }],
      }),
    ).toMatchObject({ statusCode: 400, param: "line_items[0][price_data][currency]" });
    expect(
      await bad({
        mode: "payment",
        line_items: [
          { quantity: 1, price_data: { ...line.price_data, recurring: { interval: "month" } } },
        ],
      }),
    ).toMatchObject({ statusCode: 400, param: "line_items" });
    expect(await bad({ mode: "subscription", line_items: [line] })).toMatchObject({
      statusCode: 400,
    });
    expect(await bad({ mode: "payment", line_items: [line], success_url: "nope" })).toMatchObject({
      statusCode: 400,
      param: "success_url",
    });
    expect(
      await bad({
        mode: "subscription",
        line_items: [line],
        payment_intent_data: { metadata: { a: "b" } },
      }),
    ).toMatchObject({ statusCode: 400, param: "payment_intent_data" });
  });

  it("wants a test API key, like Stripe", async () => {
    const anonymous = await fetch(`${local.url}/v1/checkout/sessions/cs_test_x`);
    expect(anonymous.status).toBe(401);
    const body = (await anonymous.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/did not provide an API key/);

    const { hostname, port } = new URL(local.url);
    const live = new Stripe("sk_live_abcdef123456", { host: hostname, port, protocol: "http" });
    await expect(live.checkout.sessions.retrieve("cs_test_x")).rejects.toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });
});

describe("events", () => {
  it("lists events newest first and pages through them with created[gte]", async () => {
    const since = Math.floor(Date.now() / 1000);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const session = await paymentSession(stripe);
      await stripe.checkout.sessions.expire(session.id);
      ids.push(session.id);
    }
    const events = await stripe.events
      .list({ created: { gte: since }, types: ["checkout.session.expired"], limit: 2 })
      .autoPagingToArray({ limit: 100 });
    const mine = events.filter((e) => ids.includes((e.data.object as { id: string }).id));
    expect(mine.map((e) => (e.data.object as { id: string }).id)).toEqual([...ids].reverse());
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const event of mine) {
      expect(missingFields(event, "event")).toEqual([]);
      expect(event).toMatchObject({
        object: "event",
        api_version: Stripe.API_VERSION,
        livemode: false,
        type: "checkout.session.expired",
      });
    }

    const first = await stripe.events.list({ limit: 2 });
    expect(first).toMatchObject({ object: "list", has_more: true, url: "/v1/events" });
    expect(first.data).toHaveLength(2);

    const future = await stripe.events.list({ created: { gte: since + 3600 } });
    expect(future.data).toEqual([]);

    const one = await stripe.events.retrieve(mine[0]?.id ?? "");
    expect(one.id).toBe(mine[0]?.id);
  });
});

describe("without a listener", () => {
  it("serves the SDK through Stripe.createFetchHttpClient bound to the app's fetch", async () => {
    const app = createLocalStripe({
      stateFile: null,
      webhookUrl: "http://127.0.0.1:9/unused",
      webhookSecret: "whsec_unused",
      log: silentLogger,
    });
    const client = new Stripe("sk_test_local", {
      host: "stripe.local",
      port: 80,
      protocol: "http",
      httpClient: Stripe.createFetchHttpClient(((input: RequestInfo | URL, init?: RequestInit) =>
        Promise.resolve(app.app.fetch(new Request(input, init)))) as typeof fetch),
    });
    const session = await paymentSession(client);
    expect(session.url).toBe(`http://stripe.local/checkout/${session.id}`);
    expect((await client.checkout.sessions.retrieve(session.id)).status).toBe("open");
    await app.close();
  });
});
