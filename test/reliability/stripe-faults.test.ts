import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_WAIT_MS } from "../../src/core/orders/confirmCheckout.ts";
import type { startLocalStripe } from "../../src/local-stripe/index.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, signature, startTestStripe } from "../support/stripe.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

/**
 * Stripe's API goes away between the buyer paying and the success page asking about it: the page
 * says it is confirming instead of failing, and access comes with the webhook. A webhook that
 * needs Stripe's API while it is away answers 5xx and writes nothing, so Stripe retries it.
 */
describe.each(dialects)("checkout while Stripe's API is unreachable, on %s", (dialect) => {
  let stripe: Awaited<ReturnType<typeof startLocalStripe>>;
  let sdk: Stripe;
  let proxy: TcpProxy;
  let h: Harness;
  beforeAll(async () => {
    // The test delivers the events itself, when it chooses.
    ({ stripe, sdk } = await startTestStripe());
    const { hostname, port } = new URL(stripe.url);
    proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    h = await makeHarness(dialect, { STRIPE_API_URL: `http://${proxy.host}:${proxy.port}` });
  });
  afterAll(async () => {
    await h.close();
    await proxy.close();
    await stripe.close();
  });

  const sync = async (sessionId: string) => {
    const started = Date.now();
    const res = await h.request("/api/checkout/sync", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionId }),
    });
    expect(res.status).toBe(200);
    return { ...(await res.json()), ms: Date.now() - started };
  };
  const successPage = async (sessionId: string) =>
    (
      await h.request(`/checkout/success?session_id=${sessionId}`, {
        headers: { accept: "text/html" },
      })
    ).text();
  const deliver = (event: Stripe.Event) => {
    const body = JSON.stringify(event);
    return h.request("/webhooks/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature(body) },
      body,
    });
  };
  const entitlementsOf = async (email: string) =>
    (await (await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`)).json())
      .entitlements as { status: string }[];

  /** A paid checkout of a new product, and the checkout.session.completed Stripe would send. */
  async function paidCheckout(email: string, product: Record<string, unknown> = {}) {
    const created = await h.createProduct(product);
    await h.upload(created.slug, "kit.zip", "kit bytes");
    const res = await h.request(`/checkout/${created.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    expect(res.status).toBe(201);
    const { url, sessionId } = (await res.json()) as { url: string; sessionId: string };
    expect((await payOnHostedPage(url, { email })).status).toBe(303);
    const completed = (
      await sdk.events.list({ type: "checkout.session.completed", limit: 100 })
    ).data.find((e) => (e.data.object as { id: string }).id === sessionId);
    if (!completed) throw new Error("no checkout.session.completed for the session");
    return { sessionId, completed };
  }

  it("sync and the success page say 'confirming'; the webhook grants access without asking Stripe", async () => {
    const email = `stripe-down-${dialect}@example.com`;
    const { sessionId, completed } = await paidCheckout(email);

    proxy.cut();
    try {
      const pending = await sync(sessionId);
      expect(pending).toMatchObject({
        status: "pending",
        confirmedWithProvider: false,
        files: [],
      });
      expect(pending.ms).toBeLessThan(10_000);
      const page = await successPage(sessionId);
      expect(page).toContain("Confirming your payment...");
      expect(page).not.toContain("kit.zip");

      // The session in the signed event already matches the pending order (our order and
      // product, amount, currency): the webhook needs nothing from Stripe's API (decision 0011).
      const landed = await deliver(completed);
      expect(landed.status).toBe(200);
      expect(await landed.json()).toMatchObject({ duplicate: false, outcome: "processed" });
      expect(await entitlementsOf(email)).toEqual([expect.objectContaining({ status: "active" })]);
    } finally {
      proxy.restore();
    }

    const paid = await sync(sessionId);
    expect(paid).toMatchObject({ status: "paid", confirmedWithProvider: true });
    expect(paid.files).toEqual([expect.objectContaining({ filename: "kit.zip" })]);
    expect(await successPage(sessionId)).toContain("kit.zip");
    expect((await deliver(completed)).status).toBe(200);
    expect(await entitlementsOf(email)).toHaveLength(1);
  });

  it("a webhook that needs Stripe's API (a subscription's period) answers 5xx while it is down, writes nothing, and lands on the retry", async () => {
    const email = `stripe-down-sub-${dialect}@example.com`;
    const { completed } = await paidCheckout(email, {
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "usd" },
    });
    proxy.cut();
    try {
      const early = await deliver(completed);
      expect(early.status).toBeGreaterThanOrEqual(500);
      expect(await entitlementsOf(email)).toEqual([]);
    } finally {
      proxy.restore();
    }
    // Stripe retries the webhook; now it lands.
    const landed = await deliver(completed);
    expect(landed.status).toBe(200);
    expect(await landed.json()).toMatchObject({ duplicate: false, outcome: "processed" });
    expect(await entitlementsOf(email)).toEqual([expect.objectContaining({ status: "active" })]);
    expect((await deliver(completed)).status).toBe(200);
    expect(await entitlementsOf(email)).toHaveLength(1);
  });

  it("a Stripe that takes the connection and never answers: the page still answers, as 'confirming'", async () => {
    const product = await h.productOnSale();
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const { url, sessionId } = (await res.json()) as { url: string; sessionId: string };
    expect((await payOnHostedPage(url, { email: `silent-${dialect}@example.com` })).status).toBe(
      303,
    );
    proxy.hang();
    try {
      const started = Date.now();
      const page = await successPage(sessionId);
      expect(page).toContain("Confirming your payment...");
      // The page waits 5 s for Stripe, not the SDK's 20 s timeout and its retries.
      expect(Date.now() - started).toBeLessThan(PROVIDER_WAIT_MS + 3000);
      const polled = await sync(sessionId);
      expect(polled).toMatchObject({ status: "pending", confirmedWithProvider: false });
      expect(polled.ms).toBeLessThan(PROVIDER_WAIT_MS + 3000);
    } finally {
      proxy.restore();
    }
  });
});
