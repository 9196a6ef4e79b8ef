import { readFileSync } from "node:fs";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, makeHarness } from "../support/harness.ts";
import { freePort } from "../support/server.ts";
import { signature } from "../support/stripe.ts";

const { resources } = JSON.parse(
  readFileSync(new URL("../../src/local-stripe/fixtures.json", import.meta.url), "utf8"),
);
const json = { accept: "application/json", origin: "http://shop.test" };

/**
 * Against a stateless stripe-mock style server (every answer is Stripe's example object, the same
 * session id every time), the signed events alone must still drive fulfilment correctly.
 */
describe("with a stateless Stripe mock", () => {
  let h: Harness;
  let close: () => void;
  beforeAll(async () => {
    const app = new Hono()
      .post("/v1/checkout/sessions", (c) => c.json(resources["checkout.session"]))
      .get("/v1/checkout/sessions/:id", (c) => c.json(resources["checkout.session"]))
      .get("/v1/payment_intents/:id", (c) => c.json(resources.payment_intent))
      .get("/v1/invoice_payments", (c) =>
        c.json({ object: "list", data: [], has_more: false, url: "/v1/invoice_payments" }),
      );
    const port = await freePort();
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
    close = () => server.close();
    h = await makeHarness("sqlite", {
      STRIPE_SECRET_KEY: "sk_test_123",
      STRIPE_API_URL: `http://127.0.0.1:${port}`,
    });
  });
  afterAll(async () => {
    await h.close();
    close();
  });

  const completedEvent = (session: Record<string, unknown>) =>
    JSON.stringify({
      ...resources.event,
      id: `evt_${Math.random().toString(36).slice(2)}`,
      type: "checkout.session.completed",
      livemode: false,
      created: Math.floor(Date.now() / 1000),
      data: { object: { ...resources["checkout.session"], ...session } },
    });
  const post = (body: string) =>
    h.request("/webhooks/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature(body) },
      body,
    });
  const entitlementsOf = async (email: string) =>
    (await (await h.admin(`/api/admin/entitlements?email=${email}`)).json()).entitlements;

  it("checkouts that get the same session id back all start, and a paid event grants its own order", async () => {
    const product = await h.productOnSale({ price: { amount: 1900, currency: "usd" } });
    const first = await (
      await h.request(`/checkout/${product.slug}`, { method: "POST", headers: json })
    ).json();
    const second = await (
      await h.request(`/checkout/${product.slug}`, { method: "POST", headers: json })
    ).json();
    expect(first.sessionId).toBe(second.sessionId);
    expect(first.orderId).not.toBe(second.orderId);

    const paid = completedEvent({
      id: second.sessionId,
      status: "complete",
      payment_status: "paid",
      currency: "usd",
      amount_subtotal: 1900,
      amount_total: 1500,
      metadata: { product: product.slug, order: second.orderId },
      customer_details: {
        ...resources["checkout.session"].customer_details,
        email: "mock@example.com",
      },
    });
    const res = await post(paid);
    expect(res.status).toBe(200);
    expect((await res.json()).outcome).toBe("processed");
    expect(await entitlementsOf("mock@example.com")).toEqual([
      expect.objectContaining({ status: "active", source: "purchase" }),
    ]);
  });

  it("an event whose currency or amount differs from the order grants nothing and flags the order", async () => {
    const product = await h.productOnSale({ price: { amount: 1900, currency: "usd" } });
    const started = await (
      await h.request(`/checkout/${product.slug}`, { method: "POST", headers: json })
    ).json();
    const base = {
      id: started.sessionId,
      status: "complete",
      payment_status: "paid",
      metadata: { product: product.slug, order: started.orderId },
      customer_details: {
        ...resources["checkout.session"].customer_details,
        email: "mismatch@example.com",
      },
    };
    const wrongCurrency = await post(
      completedEvent({ ...base, currency: "eur", amount_subtotal: 1900 }),
    );
    expect((await wrongCurrency.json()).outcome).toBe("flagged");
    const wrongAmount = await post(
      completedEvent({ ...base, currency: "usd", amount_subtotal: 100 }),
    );
    expect((await wrongAmount.json()).outcome).toBe("flagged");
    expect(await entitlementsOf("mismatch@example.com")).toEqual([]);
    const { orders } = await (await h.admin("/api/admin/orders")).json();
    expect(orders.find((o: { id: string }) => o.id === started.orderId).flag).toMatch(
      /currency eur is not usd/,
    );
  });
});
