import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevWorker } from "../support/devWorker.ts";
import { freePortPair, type RunningServer, startServer } from "../support/server.ts";
import { payOnHostedPage, signature, waitFor } from "../support/stripe.ts";
import { freshWorkerDatabase } from "../worker/support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/**
 * Both shapes of the shop as a seller runs them: `tollgate serve` with its embedded defaults
 * (SQLite, local files, the local Stripe on PORT+1), and `npm run dev:worker` (workerd, Postgres
 * through Hyperdrive, R2, the local Stripe on PORT+1). The Worker needs a Postgres server, so it
 * runs when TEST_DATABASE_URL names one (CI sets it), as the Postgres dialect does elsewhere.
 */
const SHOPS = TEST_DATABASE_URL ? (["node", "worker"] as const) : (["node"] as const);
type ShopKind = (typeof SHOPS)[number];

/**
 * Where the two legitimately differ, configuration makes them alike, never looser assertions:
 * - DELIVERY_MODE=proxy: the Worker serves files from its R2 binding through itself (it has no
 *   S3 keys to presign with); Node's local files are streamed the same way, so a download is a
 *   200 (or 206) with the bytes on both, never a redirect on one. Both default to proxy with
 *   these stores today; it is set so that a change of either default cannot split them.
 * - Mail: neither is given mail settings, so both keep it in the outbox table, read here
 *   through GET /api/admin/outbox (admin token), which both serve.
 */
const SAME_SETTINGS = { DELIVERY_MODE: "proxy" };

/** What each shop answered where only "the same as the other shop" is the contract. */
const answers: Partial<Record<ShopKind, Record<string, unknown>>> = {};

const BYTES = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
const BUYER = "buyer@example.com";
const json = { accept: "application/json" };
/** What an error answer must never show: stack frames, SQL or driver words, file paths. */
const INTERNAL = /\bat .+:\d+:\d+|stack|sqlite|postgres|kysely|select |node_modules|\.ts\b/i;

async function startShop(kind: ShopKind) {
  const port = await freePortPair();
  if (kind === "node") {
    const shop = await startServer([], { PORT: String(port), ...SAME_SETTINGS });
    return { shop, drop: async () => {} };
  }
  // Empty: dev:worker migrates it on start, as npm start does.
  const database = await freshWorkerDatabase(TEST_DATABASE_URL as string, { migrate: false });
  try {
    const shop = await startDevWorker({
      PORT: String(port),
      DATABASE_URL: database.url,
      ...SAME_SETTINGS,
    });
    return { shop, drop: database.drop };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/**
 * The HTTP contract a seller's scripts and a buyer's browser rely on. The `it`s are one
 * journey, in order: the product the admin API makes is the one bought, the buyer who pays is
 * the one who signs in, gets a link, and is refunded.
 */
describe.each(SHOPS)("the shop's HTTP contract on %s", (kind) => {
  let shop: RunningServer;
  let drop: () => Promise<void> = async () => {};
  let adminToken: string;
  let stripeUrl: string;
  let webhookSecret: string;
  const mine: Record<string, unknown> = {};
  answers[kind] = mine;

  // Filled in as the journey goes.
  const slug = "contract-kit";
  let assetId: string;
  let sessionId: string;
  let sessionDownloadUrl: string;
  let cookie: string;

  beforeAll(async () => {
    ({ shop, drop } = await startShop(kind));
    if (kind === "worker")
      expect(shop.output()).toContain(
        `Tollgate (Worker, workerd) listening on ${shop.url.slice(7)}`,
      );
    const secrets = JSON.parse(readFileSync(join(shop.dir, "data/secrets.json"), "utf8"));
    adminToken = secrets.adminToken;
    webhookSecret = secrets.localStripeWebhookSecret;
    stripeUrl = `http://127.0.0.1:${Number(new URL(shop.url).port) + 1}`;
  });
  afterAll(async () => {
    await shop?.stop();
    await drop();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, shop.url), { headers, redirect: "manual" });
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, shop.url), {
      ...init,
      redirect: "manual",
      headers: { authorization: `Bearer ${adminToken}`, ...json, ...init.headers },
    });
  const adminJson = async <T>(path: string): Promise<T> => {
    const res = await admin(path);
    expect(res.status, `${path}: ${shop.output().slice(-2000)}`).toBe(200);
    return (await res.json()) as T;
  };
  const orders = async () =>
    (
      await adminJson<{ orders: { id: string; status: string; email: string }[] }>(
        "/api/admin/orders?limit=1000",
      )
    ).orders;
  const entitlementsOf = async (email: string) =>
    (
      await adminJson<{ entitlements: { status: string; productSlug?: string }[] }>(
        `/api/admin/entitlements?email=${encodeURIComponent(email)}`,
      )
    ).entitlements;
  const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

  it("admin API: creates a product, takes its file, lists it; refuses anyone without the token", async () => {
    const created = await admin("/api/admin/products", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        slug,
        name: "Contract Kit",
        price: { amount: 1500, currency: "usd" },
      }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ slug, name: "Contract Kit" });

    const uploaded = await admin(`/api/admin/products/${slug}/assets?filename=kit.bin`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: BYTES,
    });
    expect(uploaded.status).toBe(201);
    const asset = (await uploaded.json()) as { id: string; filename: string; size: number };
    expect(asset).toMatchObject({ filename: "kit.bin", size: BYTES.length });
    assetId = asset.id;

    const { products } = await adminJson<{ products: { slug: string }[] }>("/api/admin/products");
    expect(products.map((p) => p.slug)).toEqual([slug]);

    const noToken: Record<string, string>[] = [{}, { authorization: "Bearer tga_not-the-token" }];
    for (const headers of noToken) {
      const refused = await get("/api/admin/products", { ...json, ...headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await refused.json()) as { code: string; message: string };
      expect(body).toMatchObject({ code: "unauthenticated", message: expect.any(String) });
      expect(JSON.stringify(body)).not.toMatch(INTERNAL);
      mine[`401 ${JSON.stringify(headers)}`] = { code: body.code, message: body.message };
    }
    const sneaky = await fetch(new URL("/api/admin/products", shop.url), {
      method: "POST",
      headers: { ...json, "content-type": "application/json" },
      body: JSON.stringify({
        slug: "sneaky",
        name: "Sneaky",
        price: { amount: 1, currency: "usd" },
      }),
    });
    expect(sneaky.status).toBe(401);
    const after = await adminJson<{ products: { slug: string }[] }>("/api/admin/products");
    expect(after.products.map((p) => p.slug)).toEqual([slug]);
  });

  it("purchase: checkout, pay on Stripe's page, the webhook grants, sync says paid, the file downloads whole and by Range", async () => {
    const started = await fetch(new URL(`/checkout/${slug}`, shop.url), {
      method: "POST",
      headers: { ...json, origin: shop.url },
      redirect: "manual",
    });
    expect(started.status).toBe(201);
    const checkout = (await started.json()) as { url: string; sessionId: string; orderId: string };
    expect(checkout).toEqual({
      url: expect.stringMatching(new RegExp(`^${stripeUrl}/checkout/cs_`)),
      sessionId: expect.stringMatching(/^cs_/),
      orderId: expect.any(String),
    });
    sessionId = checkout.sessionId;

    const paid = await payOnHostedPage(checkout.url, { email: BUYER });
    expect(paid.status).toBe(303);
    expect(paid.headers.get("location")).toMatch(
      new RegExp(`^${shop.url}/checkout/success\\?session_id=cs_`),
    );
    const order = await waitFor(
      async () => (await orders()).find((o) => o.id === checkout.orderId && o.status === "paid"),
      "the webhook to mark the order paid",
    );
    expect(order.email).toBe(BUYER);

    const synced = await fetch(new URL("/api/checkout/sync", shop.url), {
      method: "POST",
      headers: { ...json, "content-type": "application/json", origin: shop.url },
      body: JSON.stringify({ sessionId }),
    });
    expect(synced.status).toBe(200);
    const sync = (await synced.json()) as {
      status: string;
      order: { id: string; status: string };
      product: { slug: string };
      email: string;
      files: { id: string; filename: string; size: number; downloadUrl: string }[];
    };
    expect(sync).toMatchObject({
      status: "paid",
      order: { id: checkout.orderId, status: "paid" },
      product: { slug },
      email: BUYER,
      files: [{ id: assetId, filename: "kit.bin", size: BYTES.length }],
    });
    sessionDownloadUrl = sync.files[0]?.downloadUrl as string;
    expect(sessionDownloadUrl.startsWith(`${shop.url}/`)).toBe(true);

    const whole = await get(sessionDownloadUrl);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe(String(BYTES.length));
    expect(whole.headers.get("content-disposition")).toContain("kit.bin");
    expect((await bytesOf(whole)).equals(BYTES)).toBe(true);

    const part = await get(sessionDownloadUrl, { range: "bytes=2-5" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 2-5/${BYTES.length}`);
    expect((await bytesOf(part)).equals(BYTES.subarray(2, 6))).toBe(true);
  });

  it("webhooks: a missing, wrong or stale signature is refused and grants nothing; a signed event is taken", async () => {
    // A real, unpaid checkout, and the event that would say it was paid.
    const started = await fetch(new URL(`/checkout/${slug}`, shop.url), {
      method: "POST",
      headers: { ...json, origin: shop.url },
    });
    expect(started.status).toBe(201);
    const { sessionId: unpaid, orderId } = (await started.json()) as {
      sessionId: string;
      orderId: string;
    };
    const session = await (
      await fetch(`${stripeUrl}/v1/checkout/sessions/${unpaid}`, {
        headers: { authorization: "Bearer sk_test_local" },
      })
    ).json();
    const forger = "forger@example.com";
    const forged = JSON.stringify({
      id: `evt_forged_${randomBytes(6).toString("hex")}`,
      object: "event",
      api_version: "2025-01-27.acacia",
      type: "checkout.session.completed",
      livemode: false,
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          ...session,
          status: "complete",
          payment_status: "paid",
          customer_email: forger,
          customer_details: { ...session.customer_details, email: forger },
        },
      },
    });
    const post = (body: string, header: string | null) =>
      fetch(new URL("/webhooks/stripe", shop.url), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(header ? { "stripe-signature": header } : {}),
        },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    const refusals: Record<string, string | null> = {
      missing: null,
      wrong: signature(forged, { secret: "whsec_someoneelsesomeoneelse" }),
      stale: signature(forged, { secret: webhookSecret, timestamp: now - 600 }),
    };
    for (const [what, header] of Object.entries(refusals)) {
      const res = await post(forged, header);
      expect(res.status, what).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body, what).toMatchObject({
        code: "invalid_input",
        message: expect.stringMatching(/signature/i),
      });
      expect(JSON.stringify(body)).not.toMatch(INTERNAL);
      mine[`webhook ${what}`] = { status: res.status, code: body.code, message: body.message };
    }
    expect((await orders()).find((o) => o.id === orderId)?.status).not.toBe("paid");
    expect(await entitlementsOf(forger)).toEqual([]);
    const { events } = await adminJson<{ events: { id: string; status: string }[] }>(
      "/api/admin/webhook-events?limit=1000",
    );
    expect(events.map((e) => e.id)).not.toContain(JSON.parse(forged).id);

    // Signed with the shop's secret, an event is taken: recorded, and answered 200.
    const event = JSON.stringify({
      id: `evt_signed_${randomBytes(6).toString("hex")}`,
      object: "event",
      type: "customer.created",
      livemode: false,
      created: now,
      data: { object: { id: "cus_contract", object: "customer" } },
    });
    const taken = await post(event, signature(event, { secret: webhookSecret }));
    expect(taken.status).toBe(200);
    expect(await taken.json()).toMatchObject({ received: true, duplicate: false });
    const again = await post(event, signature(event, { secret: webhookSecret }));
    expect(await again.json()).toMatchObject({ received: true, duplicate: true });
    const listed = await adminJson<{ events: { id: string; status: string }[] }>(
      "/api/admin/webhook-events?limit=1000",
    );
    expect(listed.events.filter((e) => e.id === JSON.parse(event).id)).toHaveLength(1);
  });

  it("library: the buyer signs in by the mailed link and finds the product and its file", async () => {
    const asked = await fetch(new URL("/auth/login", shop.url), {
      method: "POST",
      headers: { ...json, "content-type": "application/json", origin: shop.url },
      body: JSON.stringify({ email: BUYER }),
    });
    expect(asked.status).toBe(202);
    expect(await asked.json()).toMatchObject({ ok: true });

    const link = await waitFor(async () => {
      const { messages } = await adminJson<{ messages: { to: string; text: string }[] }>(
        `/api/admin/outbox?to=${encodeURIComponent(BUYER)}`,
      );
      const pattern = new RegExp(`${shop.url}/auth/callback\\?token=[\\w.-]+`);
      for (const m of messages) {
        const found = pattern.exec(m.text)?.[0];
        if (found) return found;
      }
      return null;
    }, "the sign-in mail in the outbox");
    const signedIn = await get(link);
    expect(signedIn.status).toBe(303);
    const session = signedIn.headers.getSetCookie().find((c) => !/=;|max-age=0/i.test(c));
    expect(session).toBeDefined();
    cookie = (session as string).split(";")[0] as string;

    const res = await get("/api/library", { ...json, cookie });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as {
      items: { product: { slug: string }; files: { id: string; downloadUrl: string }[] }[];
    };
    expect(items.map((i) => i.product.slug)).toEqual([slug]);
    const file = items[0]?.files.find((f) => f.id === assetId);
    expect(file).toBeDefined();
    const download = await get(file?.downloadUrl as string, { cookie });
    expect(download.status).toBe(200);
    expect((await bytesOf(download)).equals(BYTES)).toBe(true);
  });

  it("token download: a link made by the admin API downloads; unknown and malformed tokens answer alike", async () => {
    const made = await admin("/api/admin/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: BUYER, product: slug, expiresIn: "1h" }),
    });
    expect(made.status).toBe(201);
    const { token, url } = (await made.json()) as { token: string; url: string };
    expect(url).toBe(`${shop.url}/d/${token}`);
    const page = await get(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("kit.bin");
    const file = await get(`/d/${token}/${assetId}`);
    expect(file.status).toBe(200);
    expect((await bytesOf(file)).equals(BYTES)).toBe(true);

    const unknownToken = `${token.slice(0, -6)}${token.slice(-6) === "AAAAAA" ? "BBBBBB" : "AAAAAA"}`;
    const refused: { status: number; code: string; message: string }[] = [];
    for (const bad of [unknownToken, "not-a-token"]) {
      const res = await get(`/d/${bad}/${assetId}`, json);
      const body = (await res.json()) as { code: string; message: string };
      expect(JSON.stringify(body)).not.toMatch(INTERNAL);
      refused.push({ status: res.status, code: body.code, message: body.message });
    }
    expect(refused[0]?.status).toBeGreaterThanOrEqual(400);
    expect(refused[1]).toEqual(refused[0]);
    mine["bad token"] = refused[0];
  });

  it("refund: the local Stripe's refund reaches the shop by webhook and ends access", async () => {
    const refunded = await fetch(`${stripeUrl}/_local/refunds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: sessionId }),
    });
    expect(refunded.status, await refunded.clone().text()).toBe(200);
    await waitFor(async () => {
      const entitlements = await entitlementsOf(BUYER);
      return entitlements.length > 0 && entitlements.every((e) => e.status === "revoked");
    }, "the refund's webhook to revoke access");
    const res = await get("/api/library", { ...json, cookie });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { product: { slug: string } }[] };
    expect(items.map((i) => i.product.slug)).not.toContain(slug);

    const bySession = await get(sessionDownloadUrl, json);
    expect([403, 404, 410]).toContain(bySession.status);
    const body = (await bySession.json()) as { code: string; message: string };
    expect(JSON.stringify(body)).not.toMatch(INTERNAL);
    mine["download after refund"] = {
      status: bySession.status,
      code: body.code,
      message: body.message,
    };
    const fromLibrary = await get(`/download/${slug}/${assetId}`, { ...json, cookie });
    expect([403, 404, 410]).toContain(fromLibrary.status);
    mine["library download after refund"] = {
      status: fromLibrary.status,
      ...((await fromLibrary.json()) as object),
      requestId: undefined,
    };
  });
});

describe.runIf(SHOPS.length > 1)("Node and the Worker", () => {
  it("answered the same where the contract is only to agree (refusals, errors)", () => {
    expect(answers.worker).toEqual(answers.node);
  });
});
