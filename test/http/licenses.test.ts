import { serve } from "@hono/node-server";
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { freePort } from "../support/server.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const JSON_HEADERS = { "content-type": "application/json" };
let n = 0;
const email = (label: string) => `${label}-${++n}-${Date.now()}@example.com`;

describe.each(dialects)("licence keys on %s", (dialect) => {
  let h: Harness;
  let stripe: Stripe;
  let client = 0;
  let server: ReturnType<typeof serve>;
  let base: string;
  beforeAll(async () => {
    // Behind a proxy on this machine, so each test client can have an address of its own.
    h = await makeHarness(dialect, { TRUST_PROXY: "loopback" }, { stripe: true });
    const url = new URL(h.runtime.localStripeUrl as string);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
    const port = await freePort();
    server = serve({ fetch: h.runtime.app.fetch, port, hostname: "127.0.0.1" });
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await h.close();
  });

  /** The seller's app calling the public API over HTTP, from an address of its own unless told. */
  const app = (verb: string, body: unknown, ip = `198.51.100.${(client++ % 250) + 1}`) =>
    fetch(`${base}/api/v1/licenses/${verb}`, {
      method: "POST",
      headers: { ...JSON_HEADERS, "x-forwarded-for": ip },
      body: JSON.stringify(body),
    });
  const json = async (res: Response) => ({ status: res.status, body: await res.json() });

  async function licensedProduct(license: Record<string, unknown> = { enabled: true }) {
    const product = await h.createProduct({ license });
    const asset = await h.upload(product.slug, "app.zip", "app bytes");
    return { ...product, assetId: asset.id };
  }
  async function keysOf(address: string) {
    const res = await h.admin(`/api/admin/licenses?email=${encodeURIComponent(address)}`);
    expect(res.status).toBe(200);
    return (await res.json()).licenses as {
      id: string;
      key: string;
      status: string;
      orderId: string | null;
      activationCount: number;
      activations: { fingerprint: string; ip: string | null }[];
      owner: { email: string };
    }[];
  }
  async function grantedKey(license?: Record<string, unknown>) {
    const product = await licensedProduct(license);
    const buyer = email("grant");
    await h.grant(buyer, product.slug);
    const [key] = await keysOf(buyer);
    if (!key) throw new Error("no key issued");
    return { product, buyer, ...key };
  }
  /** Buys through the local Stripe (which delivers the webhooks), as a guest. */
  async function buy(slug: string, buyer: string) {
    const res = await h.request(`/checkout/${slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email: buyer })).status).toBe(303);
    await waitFor(async () => (await keysOf(buyer)).length > 0, "the licence key");
    return started;
  }

  it("issues one key per purchase, with the grant, however often the payment is retried", async () => {
    const product = await licensedProduct({ enabled: true, activationLimit: 2 });
    const buyer = email("buyer");
    const { orderId } = await buy(product.slug, buyer);
    const keys = await keysOf(buyer);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ status: "active", orderId, owner: { email: buyer } });
    expect(keys[0]?.key).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
    // The webhook again (Stripe retries): still one entitlement, one key.
    const events = await stripe.events.list({ limit: 100 });
    const completed = events.data.find(
      (e) => e.type === "checkout.session.completed" && JSON.stringify(e).includes(orderId),
    );
    expect(completed).toBeDefined();
    const replay = await h.admin(`/api/admin/webhook-events/${completed?.id}/replay`, {
      method: "POST",
    });
    expect(replay.status).toBe(200);
    expect(await keysOf(buyer)).toHaveLength(1);
    // A product without licences issues none.
    const plain = await h.createProduct();
    await h.upload(plain.slug, "a.zip", "a");
    const other = email("plain");
    await h.grant(other, plain.slug);
    expect(await keysOf(other)).toEqual([]);
  });

  it("turning licences on later gives existing buyers their keys", async () => {
    const product = await h.createProduct();
    const buyer = email("early");
    await h.grant(buyer, product.slug);
    expect(await keysOf(buyer)).toEqual([]);
    const res = await h.admin(`/api/admin/products/${product.slug}`, {
      method: "PATCH",
      json: { license: { enabled: true, activationLimit: 3 } },
    });
    expect(res.status).toBe(200);
    expect((await res.json()).license).toEqual({
      enabled: true,
      activationLimit: 3,
      expiresWithAccess: true,
    });
    expect(await keysOf(buyer)).toHaveLength(1);
  });

  it("activates a machine once, however often and however concurrently it asks", async () => {
    const { key, id } = await grantedKey({ enabled: true, activationLimit: 3 });
    const first = await json(await app("activate", { key, fingerprint: "mac-1", label: "Studio" }));
    expect(first.status).toBe(200);
    expect(first.body.activation).toMatchObject({ fingerprint: "mac-1", label: "Studio" });
    expect(first.body.license).toMatchObject({
      status: "active",
      activations: 1,
      activationLimit: 3,
    });
    const again = await json(
      await app("activate", { key: key.toLowerCase(), fingerprint: "mac-1" }),
    );
    expect(again.status).toBe(200);
    expect(again.body.activation.id).toBe(first.body.activation.id);
    expect(again.body.license.activations).toBe(1);

    const twenty = await Promise.all(
      Array.from({ length: 20 }, () => app("activate", { key, fingerprint: "mac-2" })),
    );
    expect(twenty.map((r) => r.status)).toEqual(Array(20).fill(200));
    const ids = new Set(await Promise.all(twenty.map(async (r) => (await r.json()).activation.id)));
    expect(ids.size).toBe(1);
    const [seen] = (await keysOf((await getLicense(id)).owner.email)).filter((l) => l.id === id);
    expect(seen?.activationCount).toBe(2);
  });

  const getLicense = async (id: string) => (await h.admin(`/api/admin/licenses/${id}`)).json();

  it("lets exactly the limit's number of machines in, even all at once, and says which are in use", async () => {
    const { key, id } = await grantedKey({ enabled: true, activationLimit: 3 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => app("activate", { key, fingerprint: `pc-${i}` })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(17);
    const refused = await json(answers.find((r) => r.status === 409) as Response);
    expect(refused.body).toMatchObject({
      code: "activation_limit",
      activationLimit: 3,
      activations: 3,
    });
    expect(refused.body.inUse).toHaveLength(3);
    expect(refused.body.message).toMatch(/3 of 3 machines/);
    expect((await getLicense(id)).activationCount).toBe(3);
    // The seller finds it by the key a buyer pastes, in any case.
    const byKey = await h.admin(`/api/admin/licenses?key=${encodeURIComponent(key.toLowerCase())}`);
    expect((await byKey.json()).licenses.map((l: { id: string }) => l.id)).toEqual([id]);

    // The seller raises this one customer's limit; a fourth machine gets in.
    const raised = await h.admin(`/api/admin/licenses/${id}`, {
      method: "PATCH",
      json: { activationLimit: 4 },
    });
    expect(raised.status).toBe(200);
    expect((await raised.json()).activationLimit).toBe(4);
    expect((await app("activate", { key, fingerprint: "pc-new" })).status).toBe(200);
    expect((await app("activate", { key, fingerprint: "pc-newer" })).status).toBe(409);
    // A bad limit is refused and changes nothing.
    const bad = await h.admin(`/api/admin/licenses/${id}`, {
      method: "PATCH",
      json: { activationLimit: -1 },
    });
    expect(bad.status).toBe(400);
    expect((await getLicense(id)).activationLimit).toBe(4);

    // Freeing one (the app, or the seller) makes room; the seller can free all.
    const freed = await json(await app("deactivate", { key, fingerprint: "pc-new" }));
    expect(freed).toMatchObject({
      status: 200,
      body: { deactivated: true, license: { activations: 3 } },
    });
    expect((await app("activate", { key, fingerprint: "pc-newer" })).status).toBe(200);
    const one = await h.admin(`/api/admin/licenses/${id}/reset`, {
      method: "POST",
      json: { activation: "pc-newer" },
    });
    expect((await one.json()).freed).toBe(1);
    const all = await h.admin(`/api/admin/licenses/${id}/reset`, { method: "POST" });
    expect((await all.json()).freed).toBe(3);
    expect((await getLicense(id)).activations).toEqual([]);
  });

  it("validates with the reasons an app acts on, and one answer for unknown and malformed keys", async () => {
    const { key } = await grantedKey({ enabled: true, activationLimit: null });
    expect((await app("activate", { key, fingerprint: "box" })).status).toBe(200);
    const valid = await json(await app("validate", { key, fingerprint: "box" }));
    expect(valid.status).toBe(200);
    expect(valid.body).toMatchObject({
      valid: true,
      code: "valid",
      license: { status: "active", expiresAt: null, activations: 1, activationLimit: null },
      activation: { fingerprint: "box" },
    });
    expect(Object.keys(valid.body.license).sort()).toEqual(
      ["activationLimit", "activations", "expiresAt", "product", "status"].sort(),
    );
    const elsewhere = await json(await app("validate", { key, fingerprint: "other-box" }));
    expect(elsewhere.body).toMatchObject({ valid: false, code: "not_activated" });
    expect((await json(await app("validate", { key }))).body.valid).toBe(true);

    const unknown = await json(await app("validate", { key: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE" }));
    const malformed = await json(await app("validate", { key: "' or 1=1 --" }));
    const huge = await json(await app("validate", { key: "x".repeat(5000) }));
    for (const answer of [unknown, malformed, huge]) {
      expect(answer.status).toBe(404);
      const { requestId, ...rest } = answer.body;
      expect(rest).toEqual({
        code: "not_found",
        valid: false,
        message: "There is no licence with this key. Check it was copied in full.",
      });
    }
    const missing = await json(await app("validate", {}));
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^key: /);
  });

  it("stops a refunded key and a disputed key at once, as downloads stop", async () => {
    const product = await licensedProduct({ enabled: true, activationLimit: 2 });
    const refundedBuyer = email("refund");
    const refunded = await buy(product.slug, refundedBuyer);
    const [refundedKey] = await keysOf(refundedBuyer);
    const disputedBuyer = email("dispute");
    const disputed = await buy(product.slug, disputedBuyer);
    const [disputedKey] = await keysOf(disputedBuyer);
    for (const k of [refundedKey, disputedKey])
      expect((await app("activate", { key: k?.key, fingerprint: "m1" })).status).toBe(200);

    const session = await stripe.checkout.sessions.retrieve(refunded.sessionId);
    await stripe.refunds.create({ payment_intent: session.payment_intent as string });
    await waitFor(
      async () => (await keysOf(refundedBuyer))[0]?.status === "refunded",
      "the refund to reach the key",
    );
    const afterRefund = await json(
      await app("validate", { key: refundedKey?.key, fingerprint: "m1" }),
    );
    expect(afterRefund.body).toMatchObject({
      valid: false,
      code: "refunded",
      license: { status: "refunded" },
    });
    const refusedActivation = await json(
      await app("activate", { key: refundedKey?.key, fingerprint: "m2" }),
    );
    expect(refusedActivation.status).toBe(403);
    expect(refusedActivation.body).toMatchObject({ code: "refunded" });
    expect(refusedActivation.body.message).toMatch(/refunded/);

    const url = h.runtime.localStripeUrl as string;
    const opened = await fetch(`${url}/_local/disputes`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ id: disputed.sessionId }),
    });
    expect(opened.status).toBe(200);
    await waitFor(
      async () => (await keysOf(disputedBuyer))[0]?.status === "disputed",
      "the dispute to reach the key",
    );
    const afterDispute = await json(await app("validate", { key: disputedKey?.key }));
    expect(afterDispute.body).toMatchObject({ valid: false, code: "disputed" });
    expect((await app("offline", { key: disputedKey?.key, fingerprint: "m1" })).status).toBe(403);
    // Downloads say no at the same moment.
    const download = await h.request(`/download/${product.slug}/${product.assetId}`, {
      cookie: await h.signIn(disputedBuyer),
    });
    expect(download.status).toBe(403);
  });

  it("revokes a key for good, and expires a subscription's key with its access", async () => {
    const { key, id } = await grantedKey();
    const revoked = await h.admin(`/api/admin/licenses/${id}/revoke`, {
      method: "POST",
      json: { reason: "chargeback fraud" },
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ status: "revoked", reason: "chargeback fraud" });
    expect((await json(await app("validate", { key }))).body).toMatchObject({ code: "revoked" });
    expect((await app("activate", { key, fingerprint: "x" })).status).toBe(403);
    expect((await h.admin("/api/admin/licenses/lic_nope/revoke", { method: "POST" })).status).toBe(
      404,
    );

    // A key whose access ended: "expired" when keys end with access, still valid when they never do.
    for (const expiresWithAccess of [true, false]) {
      const g = await grantedKey({ enabled: true, expiresWithAccess });
      await h.deps.db
        .updateTable("entitlements")
        .set({ ends_at: h.clock.time + 60_000 })
        .where("id", "=", (await getLicense(g.id)).entitlementId)
        .execute();
      h.runtime.deps.reads?.forget();
      const before = (await json(await app("validate", { key: g.key }))).body;
      expect(before.license.expiresAt === null).toBe(!expiresWithAccess);
      h.clock.advance(120_000);
      const after = (await json(await app("validate", { key: g.key }))).body;
      expect(after.code).toBe(expiresWithAccess ? "expired" : "valid");
    }
  });

  it("signs licence files a stock JOSE library verifies, and refuses tampered or expired ones", async () => {
    const { key, id } = await grantedKey({ enabled: true, activationLimit: 1 });
    const res = await app("offline", { key, fingerprint: "air-gapped" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/jwt");
    const file = await res.text();
    const jwks = await (await h.request("/.well-known/jwks.json")).json();
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(jwks.keys[0].d).toBeUndefined();
    const keySet = createLocalJWKSet(jwks);
    expect(decodeProtectedHeader(file)).toMatchObject({ alg: "EdDSA", kid: jwks.keys[0].kid });
    const now = h.clock.time;
    const { payload } = await jwtVerify(file, keySet, {
      issuer: PUBLIC_URL,
      currentDate: new Date(now),
    });
    expect(payload).toMatchObject({ sub: id, fingerprint: "air-gapped" });
    expect(payload.exp).toBe(Math.floor((now + 30 * 86_400_000) / 1000));
    // It took the key's one activation; another machine cannot get a file.
    expect((await app("offline", { key, fingerprint: "second" })).status).toBe(409);
    const asJson = await json(
      await fetch(`${base}/api/v1/licenses/offline`, {
        method: "POST",
        headers: { ...JSON_HEADERS, accept: "application/json", "x-forwarded-for": "192.0.2.1" },
        body: JSON.stringify({ key, fingerprint: "air-gapped" }),
      }),
    );
    expect(asJson.body.licenseFile).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const [header, body, sig] = file.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, fingerprint: "pirate" })).toString(
      "base64url",
    );
    await expect(compactVerify(`${header}.${forged}.${sig}`, keySet)).rejects.toThrow();
    await expect(
      jwtVerify(file, keySet, { currentDate: new Date(now + 31 * 86_400_000) }),
    ).rejects.toThrow(/exp/);
  });

  it("answers 429 with Retry-After past the per-client limit, and never refuses an app's normal pace", async () => {
    const { key } = await grantedKey();
    const ip = "203.0.113.77";
    const answers = [];
    for (let i = 0; i < 125; i++) answers.push((await app("validate", { key }, ip)).status);
    expect(answers.slice(0, 120)).toEqual(Array(120).fill(200));
    const limited = await app("validate", { key }, ip);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another client's app is not held up by this one.
    expect((await app("validate", { key: (await grantedKey()).key }, "203.0.113.78")).status).toBe(
      200,
    );
  });

  it("opens the API to any origin, and tells the seller's app and the buyer what a customer owns", async () => {
    const preflight = await h.request("/api/v1/licenses/validate", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");

    // Over HTTP, as a browser app sees it: the header on answers and on errors alike, with the
    // security headers every answer carries.
    const unknown = await app("validate", { key: "NOT-A-KEY" });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("access-control-allow-origin")).toBe("*");
    const { key: someKey } = await grantedKey();
    const known = await app("validate", { key: someKey });
    expect(known.status).toBe(200);
    expect(known.headers.get("access-control-allow-origin")).toBe("*");
    expect(known.headers.get("content-type")).toMatch(/^application\/json/);
    expect(known.headers.get("x-content-type-options")).toBe("nosniff");
    expect(known.headers.get("x-request-id")).toBeTruthy();
    // A body past 64 KB is refused as it arrives, and the server goes on answering.
    const huge = await app("validate", { key: someKey, fingerprint: "x".repeat(100_000) });
    expect(huge.status).toBe(413);
    expect((await huge.json()).message).toMatch(/larger than 64 KB/);
    expect((await app("validate", { key: someKey })).status).toBe(200);

    const { buyer, product, key } = await grantedKey({ enabled: true, activationLimit: 5 });
    const seller = await h.admin(`/api/admin/customers/${encodeURIComponent(buyer)}/state`);
    expect(seller.status).toBe(200);
    const state = await seller.json();
    expect(state.products).toEqual([
      expect.objectContaining({
        product: product.slug,
        owned: true,
        status: "active",
        endsAt: null,
      }),
    ]);
    expect(state.licenses).toEqual([
      expect.objectContaining({ key, product: product.slug, status: "active", activationLimit: 5 }),
    ]);
    const cookie = await h.signIn(buyer);
    const mine = await h.request("/api/me/state", { cookie });
    expect(await mine.json()).toEqual(state);
    expect((await h.request("/api/me/state")).status).toBe(401);
    expect((await h.request(`/api/admin/customers/${buyer}/state`, { cookie })).status).toBe(403);
  });
});
