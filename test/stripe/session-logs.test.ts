import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../src/core/ports.ts";
import type { startLocalStripe } from "../../src/local-stripe/index.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, signature, startTestStripe } from "../support/stripe.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

interface Line {
  level: "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown>;
}

/** Keeps every line the shop logs, as the operator's log would. */
function capturingLogger(lines: Line[]): Logger {
  const keep =
    (level: Line["level"]) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  return { info: keep("info"), warn: keep("warn"), error: keep("error") };
}

/**
 * The checkout session id opens a guest's purchase for a day (success page, downloads), so it is
 * a secret: the shop's log never carries it, on the paths a purchase takes. The order id, which
 * opens nothing, names the purchase instead.
 */
describe.each(dialects)("the checkout session id stays out of the log, on %s", (dialect) => {
  const lines: Line[] = [];
  let stripe: Awaited<ReturnType<typeof startLocalStripe>>;
  let sdk: Stripe;
  let proxy: TcpProxy;
  let h: Harness;
  beforeAll(async () => {
    // The local Stripe logs on its own (silent) logger: what is captured is the shop's log only.
    ({ stripe, sdk } = await startTestStripe());
    const { hostname, port } = new URL(stripe.url);
    proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    h = await makeHarness(
      dialect,
      { STRIPE_API_URL: `http://${proxy.host}:${proxy.port}` },
      { log: capturingLogger(lines) },
    );
  });
  afterAll(async () => {
    await h.close();
    await proxy.close();
    await stripe.close();
  });

  const sync = async (sessionId: string) =>
    (
      await h.request("/api/checkout/sync", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sessionId }),
      })
    ).json();

  it("checkout, webhook, success page, sync, download and a Stripe outage log the order, never the session", async () => {
    const email = `logged-${dialect}@example.com`;
    const product = await h.createProduct();
    await h.upload(product.slug, "kit.zip", "kit bytes");
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    expect(res.status).toBe(201);
    const { url, sessionId, orderId } = (await res.json()) as {
      url: string;
      sessionId: string;
      orderId: string;
    };
    expect(sessionId).toMatch(/^cs_/);
    expect((await payOnHostedPage(url, { email })).status).toBe(303);

    const completed = (
      await sdk.events.list({ type: "checkout.session.completed", limit: 100 })
    ).data.find((e) => (e.data.object as { id: string }).id === sessionId);
    if (!completed) throw new Error("no checkout.session.completed for the session");
    const body = JSON.stringify(completed);
    const delivered = await h.request("/webhooks/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature(body) },
      body,
    });
    expect(delivered.status).toBe(200);

    const page = await h.request(`/checkout/success?session_id=${sessionId}`, {
      headers: { accept: "text/html" },
    });
    expect(page.status).toBe(200);
    const paid = await sync(sessionId);
    expect(paid.status).toBe("paid");
    expect((await h.request(paid.files[0].downloadUrl)).status).toBe(200);

    // Stripe's API goes away while the buyer's page asks again: a warning, still without it.
    proxy.cut();
    try {
      expect((await sync(sessionId)).status).toBe("paid");
    } finally {
      proxy.restore();
    }

    const said = lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.fields)}`);
    expect(said.filter((l) => l.includes(sessionId))).toEqual([]);
    // The purchase is still traceable in the log, by its order id.
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "info",
        message: "checkout started",
        fields: expect.objectContaining({ orderId }),
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "checkout sync: provider unreachable",
        fields: expect.objectContaining({ orderId }),
      }),
    );
  }, 60_000);
});
