import { readFileSync } from "node:fs";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { freePort } from "../support/server.ts";
import { signature } from "../support/stripe.ts";

const { resources } = JSON.parse(
  readFileSync(new URL("../../src/local-stripe/fixtures.json", import.meta.url), "utf8"),
);
const json = { accept: "application/json", origin: "http://shop.test" };

/**
 * Issue 20 at the Stripe API boundary: a Stripe-shaped server records what Tollgate sends (the
 * form body the SDK writes, as Stripe receives it) and answers with Stripe's example objects; the
 * signed events a test posts drive fulfilment.
 */
function stripeRecorder() {
  const calls: { path: string; form: URLSearchParams }[] = [];
  let sessions = 0;
  let prices = 0;
  /** What GET /v1/checkout/sessions/:id answers, per session id (the test sets it). */
  const retrieved = new Map<string, Record<string, unknown>>();
  const app = new Hono()
    .post("/v1/checkout/sessions", async (c) => {
      calls.push({ path: "sessions", form: new URLSearchParams(await c.req.text()) });
      const id = `cs_test_rec${++sessions}`;
      return c.json({ ...resources["checkout.session"], id, url: `https://pay.test/${id}` });
    })
    .post("/v1/prices", async (c) => {
      calls.push({ path: "prices", form: new URLSearchParams(await c.req.text()) });
      return c.json({ ...resources.price, id: `price_rec${++prices}` });
    })
    .get("/v1/checkout/sessions/:id", (c) => {
      const session = retrieved.get(c.req.param("id"));
      return session
        ? c.json(session)
        : c.json({ error: { type: "invalid_request_error", code: "resource_missing" } }, 404);
    })
    .get("/v1/payment_intents/:id", (c) => c.json(resources.payment_intent));
  return { app, calls, retrieved };
}

const CHECKOUT_PARAMS = [
  "automatic_tax[enabled]",
  "tax_id_collection[enabled]",
  "invoice_creation[enabled]",
  "allow_promotion_codes",
] as const;

describe.each(dialects)("taxes, discounts and chosen prices through Stripe on %s", (dialect) => {
  let h: Harness;
  let stripe: ReturnType<typeof stripeRecorder>;
  let close: () => void;
  beforeAll(async () => {
    stripe = stripeRecorder();
    const port = await freePort();
    const server = serve({ fetch: stripe.app.fetch, port, hostname: "127.0.0.1" });
    close = () => server.close();
    h = await makeHarness(dialect, {
      STRIPE_SECRET_KEY: "sk_test_123",
      STRIPE_API_URL: `http://127.0.0.1:${port}`,
    });
  });
  afterAll(async () => {
    await h?.close();
    close?.();
  });
  beforeEach(async () => {
    // Every setting back to the configuration's default (all off).
    await setCheckout({
      automaticTax: false,
      taxIdCollection: false,
      invoiceCreation: false,
      promotionCodes: false,
      taxBehavior: "exclusive",
    });
  });

  const setCheckout = (settings: Record<string, unknown>) =>
    h.admin("/api/admin/shop/checkout", { method: "PATCH", json: settings });
  const startCheckout = async (slug: string) => {
    const res = await h.request(`/checkout/${slug}`, { method: "POST", headers: json });
    expect(res.status).toBe(201);
    return (await res.json()) as { sessionId: string; orderId: string };
  };
  /** The form body of the last Checkout Session Tollgate created. */
  const lastSession = () => stripe.calls.filter((c) => c.path === "sessions").at(-1)?.form;
  const post = (session: Record<string, unknown>) => {
    const body = JSON.stringify({
      ...resources.event,
      id: `evt_${Math.random().toString(36).slice(2)}`,
      type: "checkout.session.completed",
      livemode: false,
      created: Math.floor(Date.now() / 1000),
      data: { object: { ...resources["checkout.session"], ...session } },
    });
    return h.request("/webhooks/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature(body) },
      body,
    });
  };
  const entitlementsOf = async (email: string) =>
    (await (await h.admin(`/api/admin/entitlements?email=${email}`)).json()).entitlements;
  const orderOf = async (orderId: string) =>
    (await (await h.admin("/api/admin/orders?limit=1000")).json()).orders.find(
      (o: { id: string }) => o.id === orderId,
    );
  const paidSession = (
    started: { sessionId: string; orderId: string },
    slug: string,
    email: string,
    amounts: Record<string, unknown>,
  ) => ({
    id: started.sessionId,
    status: "complete",
    payment_status: "paid",
    currency: "usd",
    metadata: { product: slug, order: started.orderId },
    customer_details: { ...resources["checkout.session"].customer_details, email },
    ...amounts,
  });

  it("sends none of the Checkout options while they are off", async () => {
    const product = await h.productOnSale({ taxCode: "txcd_10000000" });
    await startCheckout(product.slug);
    const form = lastSession();
    for (const param of CHECKOUT_PARAMS) expect(form?.has(param), param).toBe(false);
    expect(form?.has("line_items[0][price_data][tax_behavior]")).toBe(false);
    expect(form?.has("line_items[0][price_data][product_data][tax_code]")).toBe(false);
    expect(form?.get("line_items[0][price_data][unit_amount]")).toBe("1900");
  });

  it("sends each option exactly when the seller turns it on", async () => {
    const product = await h.productOnSale();
    const settings = ["automaticTax", "taxIdCollection", "invoiceCreation", "promotionCodes"];
    for (const [i, setting] of settings.entries()) {
      expect((await setCheckout({ [setting]: true })).status).toBe(200);
      await startCheckout(product.slug);
      const form = lastSession();
      for (const [j, param] of CHECKOUT_PARAMS.entries())
        expect(form?.get(param) ?? null, `${setting}: ${param}`).toBe(i === j ? "true" : null);
      await setCheckout({ [setting]: false });
    }
  });

  it("with automatic tax, the price says whether it includes tax and the product carries its tax code", async () => {
    const product = await h.productOnSale({ taxCode: "txcd_10000000" });
    await setCheckout({ automaticTax: "on", taxBehavior: "inclusive" });
    await startCheckout(product.slug);
    expect(lastSession()?.get("line_items[0][price_data][tax_behavior]")).toBe("inclusive");
    expect(lastSession()?.get("line_items[0][price_data][product_data][tax_code]")).toBe(
      "txcd_10000000",
    );
    const saved = await (await h.admin("/api/admin/shop/checkout")).json();
    expect(saved).toEqual({
      automaticTax: true,
      taxIdCollection: false,
      invoiceCreation: false,
      promotionCodes: false,
      taxBehavior: "inclusive",
    });
  });

  it("never asks for an invoice on a subscription, which has its own", async () => {
    const product = await h.productOnSale({
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "usd" },
    });
    await setCheckout({ invoiceCreation: true, promotionCodes: true });
    await startCheckout(product.slug);
    expect(lastSession()?.get("mode")).toBe("subscription");
    expect(lastSession()?.has("invoice_creation[enabled]")).toBe(false);
    expect(lastSession()?.get("allow_promotion_codes")).toBe("true");
  });

  it("refuses a setting that is not one, changing nothing", async () => {
    await setCheckout({ promotionCodes: true });
    for (const bad of [
      { promotionCodes: "maybe" },
      { taxBehavior: "sometimes" },
      { surprise: true },
      [],
    ]) {
      const res = await setCheckout(bad as Record<string, unknown>);
      expect(res.status).toBe(400);
      expect((await res.json()).code).toBe("invalid_input");
    }
    expect((await (await h.admin("/api/admin/shop/checkout")).json()).promotionCodes).toBe(true);
  });

  it("a buyer who pays 40% off with a promotion code gets the product; the discount is recorded", async () => {
    await setCheckout({ promotionCodes: true });
    const product = await h.productOnSale({ price: { amount: 2900, currency: "usd" } });
    const started = await startCheckout(product.slug);
    const res = await post(
      paidSession(started, product.slug, "coupon@example.com", {
        amount_subtotal: 2900,
        amount_total: 1740,
        total_details: { amount_discount: 1160, amount_shipping: 0, amount_tax: 0 },
      }),
    );
    expect((await res.json()).outcome).toBe("processed");
    expect(await entitlementsOf("coupon@example.com")).toEqual([
      expect.objectContaining({ status: "active" }),
    ]);
    expect(await orderOf(started.orderId)).toMatchObject({
      status: "paid",
      subtotal: 2900,
      discount: 1160,
      tax: 0,
      total: 1740,
      net: 1740,
    });
  });

  it("records the tax, the buyer's country and tax ID, and the invoice; the CSV carries them", async () => {
    await setCheckout({ automaticTax: true, taxIdCollection: true, invoiceCreation: true });
    const product = await h.productOnSale({ price: { amount: 2900, currency: "usd" } });
    const started = await startCheckout(product.slug);
    const res = await post(
      paidSession(started, product.slug, "vat@example.com", {
        amount_subtotal: 2900,
        amount_total: 2856,
        total_details: { amount_discount: 500, amount_shipping: 0, amount_tax: 456 },
        invoice: "in_test_tax1",
        customer_details: {
          ...resources["checkout.session"].customer_details,
          email: "vat@example.com",
          address: { ...resources["checkout.session"].customer_details?.address, country: "DE" },
          tax_ids: [{ type: "eu_vat", value: "DE123456789" }],
        },
      }),
    );
    expect((await res.json()).outcome).toBe("processed");
    const order = await orderOf(started.orderId);
    expect(order).toMatchObject({
      subtotal: 2900,
      discount: 500,
      tax: 456,
      total: 2856,
      net: 2400,
      country: "DE",
      taxIds: [{ type: "eu_vat", value: "DE123456789" }],
      invoiceId: "in_test_tax1",
    });

    const csv = await h.admin("/api/admin/orders.csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "reference,order_id,created_at,status,product,email,currency,subtotal,discount,tax,total,net,country,tax_ids,invoice,payment_intent,subscription",
    );
    const row = lines.find((line) => line.includes(started.orderId));
    expect(row).toContain(
      `,paid,${product.slug},vat@example.com,USD,29.00,5.00,4.56,28.56,24.00,DE,eu_vat DE123456789,in_test_tax1,`,
    );
    // Only the seller reads it.
    expect((await h.request("/api/admin/orders.csv")).status).toBe(401);
  });

  describe("pay what you want", () => {
    it("makes one Stripe price with the minimum and suggested amount, and sells it", async () => {
      const product = await h.productOnSale({
        price: { amount: 1500, currency: "usd" },
        payWhatYouWant: { minimum: 500, suggested: 1500 },
      });
      const before = stripe.calls.filter((c) => c.path === "prices").length;
      await startCheckout(product.slug);
      await startCheckout(product.slug);
      const made = stripe.calls.filter((c) => c.path === "prices").slice(before);
      expect(made).toHaveLength(1);
      const price = made[0]?.form;
      expect(price?.get("custom_unit_amount[enabled]")).toBe("true");
      expect(price?.get("custom_unit_amount[minimum]")).toBe("500");
      expect(price?.get("custom_unit_amount[preset]")).toBe("1500");
      expect(price?.get("currency")).toBe("usd");
      expect(price?.get("product_data[name]")).toBe("Kit");
      expect(lastSession()?.get("line_items[0][price]")).toMatch(/^price_rec\d+$/);
      expect(lastSession()?.has("line_items[0][price_data][unit_amount]")).toBe(false);
    });

    it("grants a chosen amount from the minimum up, records it, and never grants below it", async () => {
      const product = await h.productOnSale({
        price: { amount: 1500, currency: "usd" },
        payWhatYouWant: { minimum: 500 },
      });
      const detailed = (started: { sessionId: string }, amount: number) => {
        const priceId = lastSession()?.get("line_items[0][price]");
        const session = {
          ...resources["checkout.session"],
          id: started.sessionId,
          status: "complete",
          payment_status: "paid",
          currency: "usd",
          amount_subtotal: amount,
          amount_total: amount,
          line_items: {
            object: "list",
            data: [
              {
                ...resources.item,
                currency: "usd",
                quantity: 1,
                amount_subtotal: amount,
                price: { ...resources.price, id: priceId },
              },
            ],
            has_more: false,
          },
        };
        stripe.retrieved.set(started.sessionId, session);
        return session;
      };

      const low = await startCheckout(product.slug);
      const lowSession = detailed(low, 400);
      const refused = await post({
        ...lowSession,
        line_items: undefined,
        metadata: { product: product.slug, order: low.orderId },
        customer_details: { ...lowSession.customer_details, email: "cheap@example.com" },
      });
      expect((await refused.json()).outcome).toBe("flagged");
      expect(await entitlementsOf("cheap@example.com")).toEqual([]);
      expect((await orderOf(low.orderId)).flag).toMatch(/below the minimum 500/);

      const fair = await startCheckout(product.slug);
      const fairSession = detailed(fair, 2000);
      const granted = await post({
        ...fairSession,
        line_items: undefined,
        metadata: { product: product.slug, order: fair.orderId },
        customer_details: { ...fairSession.customer_details, email: "fair@example.com" },
      });
      expect((await granted.json()).outcome).toBe("processed");
      expect(await entitlementsOf("fair@example.com")).toEqual([
        expect.objectContaining({ status: "active" }),
      ]);
      expect(await orderOf(fair.orderId)).toMatchObject({ amount: 2000, total: 2000 });
    });

    it("is refused where Stripe cannot sell it, with the reason, changing nothing", async () => {
      const sub = await h.admin("/api/admin/products", {
        method: "POST",
        json: {
          slug: "monthly-pwyw",
          name: "Monthly",
          kind: "subscription",
          interval: "month",
          price: { amount: 900, currency: "usd" },
          payWhatYouWant: { minimum: 500 },
        },
      });
      expect(sub.status).toBe(400);
      expect((await sub.json()).message).toMatch(/one-time purchases/);
      expect((await h.admin("/api/admin/products/monthly-pwyw")).status).toBe(404);

      const product = await h.productOnSale({ price: { amount: 1500, currency: "usd" } });
      const tooLow = await h.admin(`/api/admin/products/${product.slug}`, {
        method: "PATCH",
        json: { payWhatYouWant: { minimum: 800, suggested: 500 } },
      });
      expect(tooLow.status).toBe(400);
      expect((await tooLow.json()).message).toMatch(/suggested amount cannot be below/);
      const sale = await h.admin(`/api/admin/products/${product.slug}`, {
        method: "PATCH",
        json: { listPrice: 1500 },
      });
      expect(sale.status).toBe(400);
      expect((await sale.json()).message).toMatch(/must be above the price/);
      const unchanged = await (await h.admin(`/api/admin/products/${product.slug}`)).json();
      expect(unchanged).toMatchObject({ payWhatYouWant: null, listPrice: null });

      const onSale = await h.admin(`/api/admin/products/${product.slug}`, {
        method: "PATCH",
        json: { listPrice: 2900, taxCode: "txcd_10000000" },
      });
      expect(onSale.status).toBe(200);
      expect(await onSale.json()).toMatchObject({ listPrice: 2900, taxCode: "txcd_10000000" });
    });
  });
});
