import { createServer, type IncomingMessage, type Server } from "node:http";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeApi } from "../../src/adapters/stripe/api.ts";
import { createStripeClient as sdkClient } from "../../src/adapters/stripe/client.ts";
import {
  createStripeClient as fetchClient,
  formEncode,
  STRIPE_API_VERSION,
} from "../../src/adapters/stripe/fetchClient.ts";
import { checkoutParams } from "../../src/adapters/stripe/index.ts";
import {
  type Endpoint,
  localStripe,
  payByCard,
  paymentSession,
  SECRET,
  subscriptionSession,
  webhookEndpoint,
} from "./support.ts";

/**
 * The Worker build's Stripe client (fetchClient.ts) against the official SDK (client.ts, Node):
 * every call the adapter makes, on the local Stripe, answers the same objects and fails the
 * same way; webhook signatures are accepted and refused alike.
 */

let endpoint: Endpoint;
let local: Awaited<ReturnType<typeof localStripe>>;
let sdk: StripeApi;
let small: StripeApi;

beforeAll(async () => {
  endpoint = await webhookEndpoint();
  local = await localStripe(endpoint.url);
  sdk = sdkClient({ secretKey: "sk_test_local", apiUrl: local.url });
  small = fetchClient({ secretKey: "sk_test_local", apiUrl: local.url });
});
afterAll(async () => {
  await local?.close();
  await endpoint?.close();
});

/** Both clients' answer to the same call: the object, or the error's fields callers read. */
async function both<T>(call: (client: StripeApi) => Promise<T>) {
  const settle = (p: Promise<T>) =>
    p.then(
      (value) => ({ ok: JSON.parse(JSON.stringify(value)) as T }),
      (e: { statusCode?: number; code?: string; param?: string; message: string }) => ({
        error: { statusCode: e.statusCode, code: e.code, param: e.param, message: e.message },
      }),
    );
  return { sdk: await settle(call(sdk)), small: await settle(call(small)) };
}

const paid = async (session: Stripe.Checkout.Session) => {
  expect((await payByCard(session)).status).toBeLessThan(400);
  return sdk.checkout.sessions.retrieve(session.id, {});
};

describe("the fetch client answers as the SDK does", () => {
  it("pins the API version the installed SDK pins", () => {
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
  });

  it("encodes parameters as the SDK does (indices, readable brackets, qs escapes)", () => {
    expect(
      formEncode({
        mode: "payment",
        line_items: [{ price_data: { product_data: { name: "Kit (v2)!*'" } }, quantity: 1 }],
        expand: ["line_items", "subscription"],
        metadata: { order: "ord_1 & co" },
        skip: undefined,
        empty: null,
      }),
    ).toBe(
      "mode=payment&line_items[0][price_data][product_data][name]=Kit%20%28v2%29%21%2A%27" +
        "&line_items[0][quantity]=1&expand[0]=line_items&expand[1]=subscription" +
        "&metadata[order]=ord_1%20%26%20co&empty=",
    );
  });

  it("creates checkout sessions the local Stripe reads the same way", async () => {
    const params = (mode: "payment" | "subscription") =>
      mode === "payment"
        ? paymentSession(sdk as unknown as Stripe)
        : subscriptionSession(sdk as unknown as Stripe);
    for (const mode of ["payment", "subscription"] as const) {
      const viaSdk = await params(mode);
      const viaSmall =
        mode === "payment"
          ? await paymentSession(small as unknown as Stripe)
          : await subscriptionSession(small as unknown as Stripe);
      const stable = (s: Stripe.Checkout.Session) => ({
        ...s,
        id: null,
        url: null,
        created: null,
        expires_at: null,
      });
      expect(stable(viaSmall)).toEqual(stable(viaSdk));
    }
  });

  it("creates a checkout with every Checkout option, and a chosen-amount price, alike (issue 20)", async () => {
    const request = {
      mode: "payment" as const,
      item: {
        name: "Kit",
        currency: "eur",
        unitAmount: 2900,
        interval: null,
        priceId: null,
        taxCode: "txcd_10000000",
      },
      options: {
        automaticTax: true,
        taxIdCollection: true,
        invoiceCreation: true,
        promotionCodes: true,
        taxBehavior: "inclusive" as const,
      },
      clientReferenceId: null,
      customerEmail: "both@example.com",
      metadata: { product: "kit", order: "ord_both" },
      successUrl: "http://shop.test/ok",
      cancelUrl: "http://shop.test/no",
    };
    const stable = (s: Stripe.Checkout.Session) => ({
      ...s,
      id: null,
      url: null,
      created: null,
      expires_at: null,
    });
    const sessions = await both((c) => c.checkout.sessions.create(checkoutParams(request)));
    const viaSdk = (sessions.sdk as { ok: Stripe.Checkout.Session }).ok;
    expect(stable((sessions.small as { ok: Stripe.Checkout.Session }).ok)).toEqual(stable(viaSdk));
    expect(viaSdk).toMatchObject({
      automatic_tax: { enabled: true },
      tax_id_collection: { enabled: true },
      invoice_creation: { enabled: true },
    });

    const price = {
      currency: "eur",
      custom_unit_amount: { enabled: true, minimum: 500, preset: 1500 },
      product_data: { name: "Chosen" },
    } as const;
    const prices = await both((c) => c.prices.create(price));
    const stablePrice = (p: { ok?: Stripe.Price }) => ({
      ...p.ok,
      id: null,
      product: null,
      created: null,
    });
    expect(stablePrice(prices.small as { ok: Stripe.Price })).toEqual(
      stablePrice(prices.sdk as { ok: Stripe.Price }),
    );
    expect((prices.sdk as { ok: Stripe.Price }).ok.custom_unit_amount).toMatchObject({
      minimum: 500,
      preset: 1500,
    });
    // The local Stripe has no Stripe Tax: both see the same 404.
    const registrations = await both((c) => c.tax.registrations.list({ status: "active" }));
    expect(registrations.small).toEqual(registrations.sdk);
    expect(registrations.sdk).toMatchObject({ error: { statusCode: 404 } });
  });

  it("retrieves a paid session, expanded, and its payment intent, charge and refund alike", async () => {
    const session = await paid(await paymentSession(sdk as unknown as Stripe));
    const expanded = await both((c) =>
      c.checkout.sessions.retrieve(session.id, { expand: ["line_items", "subscription"] }),
    );
    expect(expanded.small).toEqual(expanded.sdk);
    expect((expanded.small as { ok: Stripe.Checkout.Session }).ok.line_items?.data).toHaveLength(1);

    const intentId = session.payment_intent as string;
    const intent = await both((c) => c.paymentIntents.retrieve(intentId));
    expect(intent.small).toEqual(intent.sdk);
    const chargeId = (intent.sdk as { ok: Stripe.PaymentIntent }).ok.latest_charge as string;
    const charge = await both((c) => c.charges.retrieve(chargeId));
    expect(charge.small).toEqual(charge.sdk);

    const refund = await small.refunds.create({ payment_intent: intentId });
    expect(refund).toMatchObject({ object: "refund", payment_intent: intentId, amount: 1900 });
    // Refunding again: both refused by Stripe with the same 4xx and message.
    const again = await both((c) => c.refunds.create({ payment_intent: intentId }));
    expect(again.small).toEqual(again.sdk);
    expect(again.sdk).toMatchObject({ error: { statusCode: 400 } });
  });

  it("finds a subscription's invoice from its payment intent, as the adapter's paymentRef does", async () => {
    const session = await paid(await subscriptionSession(sdk as unknown as Stripe));
    const invoiceId = (
      (await sdk.checkout.sessions.retrieve(session.id, { expand: ["subscription"] }))
        .subscription as Stripe.Subscription
    ).latest_invoice as string;
    const invoice = await both((c) => c.invoices.retrieve(invoiceId));
    expect(invoice.small).toEqual(invoice.sdk);
    const intentId = (await local.stripe.invoicePayments.list({ invoice: invoiceId })).data[0]
      ?.payment.payment_intent as string;
    expect(intentId).toBeTruthy();
    const payments = await both((c) =>
      c.invoicePayments.list({
        payment: { type: "payment_intent", payment_intent: intentId },
        limit: 1,
      }),
    );
    expect(payments.small).toEqual(payments.sdk);
    expect((payments.small as { ok: Stripe.ApiList<unknown> }).ok.data).toHaveLength(1);
  });

  it("lists events page after page, as autoPagingToArray does", async () => {
    const params = { limit: 2, types: ["checkout.session.completed", "charge.refunded"] };
    const viaSdk = await sdk.events.list(params).autoPagingToArray({ limit: 10_000 });
    const viaSmall = await small.events.list(params).autoPagingToArray({ limit: 10_000 });
    expect(viaSdk.length).toBeGreaterThan(2);
    expect(viaSmall.map((e) => e.id)).toEqual(viaSdk.map((e) => e.id));
    const capped = await small.events.list(params).autoPagingToArray({ limit: 3 });
    expect(capped.map((e) => e.id)).toEqual(viaSdk.slice(0, 3).map((e) => e.id));
    const first = await both((c) => c.events.list({ limit: 1 }));
    expect(first.small).toEqual(first.sdk);
  });

  it("fails like the SDK on unknown objects and bad keys (statusCode, code, message)", async () => {
    const missing = await both((c) => c.charges.retrieve("ch_missing"));
    expect(missing.small).toEqual(missing.sdk);
    expect(missing.sdk).toMatchObject({ error: { statusCode: 404, code: "resource_missing" } });
    const invalid = await both((c) =>
      c.checkout.sessions.create({ mode: "payment", success_url: "http://shop.test/" }),
    );
    expect(invalid.small).toEqual(invalid.sdk);
    expect(invalid.sdk).toMatchObject({ error: { statusCode: 400 } });
  });
});

describe("the fetch client retries as the SDK does", () => {
  let server: Server;
  let url: string;
  const seen: { method: string; key: string | undefined; version: string | undefined }[] = [];
  let answers: { status: number; headers?: Record<string, string> }[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      req.resume();
      req.on("end", () => {
        seen.push({
          method: req.method as string,
          key: req.headers["idempotency-key"] as string | undefined,
          version: req.headers["stripe-version"] as string | undefined,
        });
        const answer = answers.shift() ?? { status: 200 };
        const body =
          answer.status < 300
            ? { id: "re_1", object: "refund" }
            : { error: { type: "api_error", message: `status ${answer.status}` } };
        res
          .writeHead(answer.status, { "content-type": "application/json", ...answer.headers })
          .end(JSON.stringify(body));
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("retries a 5xx and a 409 twice at most, a POST with one idempotency key throughout", async () => {
    const client = fetchClient({ secretKey: "sk_test_x", apiUrl: url });
    seen.length = 0;
    answers = [{ status: 500 }, { status: 409 }, { status: 200 }];
    expect(await client.refunds.create({ payment_intent: "pi_1" })).toMatchObject({ id: "re_1" });
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(seen[0]?.key).toBeTruthy();
    expect(seen[0]?.version).toBe(Stripe.API_VERSION);

    seen.length = 0;
    answers = [{ status: 503 }, { status: 503 }, { status: 503 }];
    await expect(client.charges.retrieve("ch_1")).rejects.toMatchObject({ statusCode: 503 });
    expect(seen).toHaveLength(3);
    expect(seen[0]?.key).toBeUndefined();
  });

  it("does not retry a 4xx, nor what Stripe says not to retry", async () => {
    const client = fetchClient({ secretKey: "sk_test_x", apiUrl: url });
    seen.length = 0;
    answers = [{ status: 400 }];
    await expect(client.charges.retrieve("ch_1")).rejects.toMatchObject({
      statusCode: 400,
      message: "status 400",
    });
    answers = [{ status: 500, headers: { "stripe-should-retry": "false" } }];
    await expect(client.charges.retrieve("ch_1")).rejects.toMatchObject({ statusCode: 500 });
    expect(seen).toHaveLength(2);
  });

  it("retries a refused connection, then says Stripe is not reachable (no statusCode)", async () => {
    const client = fetchClient({ secretKey: "sk_test_x", apiUrl: "http://127.0.0.1:9" });
    const error = await client.charges.retrieve("ch_1").catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { statusCode?: number }).statusCode).toBeUndefined();
    expect((error as Error).message).toMatch(/connection to Stripe/);
  });
});

describe("webhook signatures: the fetch client's check agrees with the SDK's", () => {
  const official = new Stripe("sk_test_x").webhooks;
  const body = JSON.stringify({ id: "evt_1", object: "event", type: "charge.refunded" });
  const now = Date.now();
  const t = Math.floor(now / 1000);
  const sign = (payload: string, secret = SECRET, timestamp = t) =>
    official.generateTestHeaderString({ payload, secret, timestamp });

  const cases: [string, string, string, string?, number?][] = [
    ["a good signature", body, sign(body)],
    ["a good one among others", body, `${sign(body)},v1=${"0".repeat(64)},v0=abc`],
    ["another secret's", body, sign(body, "whsec_other")],
    ["a tampered body", `${body} `, sign(body)],
    ["an old timestamp", body, sign(body, SECRET, t - 301)],
    ["a timestamp just within", body, sign(body, SECRET, t - 299)],
    ["a future timestamp (the adapter refuses it later)", body, sign(body, SECRET, t + 3600)],
    ["no v1 signature", body, `t=${t},v0=abc`],
    ["no timestamp", body, `v1=${"a".repeat(64)}`],
    ["garbage", body, "not a header"],
    ["an empty header", body, ""],
    ["an empty body", "", sign("")],
    ["an empty secret", body, sign(body), " "],
  ];
  for (const [what, payload, header, secret = SECRET] of cases) {
    it(`${what}`, async () => {
      const outcome = async (check: () => unknown) => {
        try {
          await check();
          return "accepted";
        } catch (e) {
          return (e as Error).message.split("\n")[0];
        }
      };
      const signature = small.webhooks.signature;
      const expected = await outcome(() =>
        official.signature?.verifyHeader(payload, header, secret, 300, undefined, now),
      );
      const actual = await outcome(() =>
        signature?.verifyHeaderAsync(payload, header, secret, 300, undefined, now),
      );
      expect(actual).toBe(expected);
    });
  }
});
