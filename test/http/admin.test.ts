import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { ADMIN_TOKEN, type Harness, makeHarness } from "../support/harness.ts";

const ADMIN_ROUTES: [string, string][] = [
  ["GET", "/api/admin/products"],
  ["POST", "/api/admin/products"],
  ["GET", "/api/admin/products/x"],
  ["PATCH", "/api/admin/products/x"],
  ["GET", "/api/admin/products/x/assets"],
  ["POST", "/api/admin/products/x/assets?filename=a.zip"],
  ["PATCH", "/api/admin/assets/ast_x"],
  ["GET", "/api/admin/entitlements"],
  ["POST", "/api/admin/grants"],
  ["POST", "/api/admin/entitlements/ent_x/revoke"],
  ["POST", "/api/admin/tokens"],
  ["GET", "/api/admin/downloads"],
  ["GET", "/api/admin/orders"],
  ["GET", "/api/admin/webhook-events"],
  ["GET", "/api/admin/outbox"],
];

describe.each(dialects)("admin API on %s", (dialect) => {
  let h: Harness;
  let buyer: string;
  beforeAll(async () => {
    h = await makeHarness(dialect);
    buyer = await h.signIn("buyer@example.com");
  });
  afterAll(() => h.close());

  it.each(ADMIN_ROUTES)(
    "%s %s refuses no token, a wrong token and a buyer's session, and writes nothing",
    async (method, path) => {
      const before = await (await h.admin("/api/admin/products")).json();
      const body =
        method === "GET"
          ? null
          : JSON.stringify({
              slug: "sneaky",
              name: "x",
              email: "a@b.co",
              product: "x",
              active: false,
            });
      const none = await h.request(path, {
        method,
        body,
        headers: { "content-type": "application/json" },
      });
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual({
        code: "unauthenticated",
        message: expect.any(String),
        requestId: expect.any(String),
      });
      const wrong = await h.request(path, {
        method,
        body,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}x`, "content-type": "application/json" },
      });
      expect(wrong.status).toBe(401);
      const session = await h.request(path, {
        method,
        body,
        cookie: buyer,
        headers: { "content-type": "application/json", origin: "http://shop.test" },
      });
      expect(session.status).toBe(403);
      expect(await (await h.admin("/api/admin/products")).json()).toEqual(before);
    },
  );

  it("an admin's own session (email in ADMIN_EMAILS) is enough", async () => {
    const owner = await h.signIn("owner@shop.test");
    const res = await h.request("/api/admin/products", { cookie: owner });
    expect(res.status).toBe(200);
  });

  it("creates products of each kind and explains every invalid field", async () => {
    const ok = await h.admin("/api/admin/products", {
      method: "POST",
      json: {
        slug: "monthly",
        name: "Monthly",
        kind: "subscription",
        interval: "month",
        price: { amount: 900, currency: "EUR" },
      },
    });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({
      slug: "monthly",
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "eur" },
      active: true,
    });
    const free = await h.admin("/api/admin/products", {
      method: "POST",
      json: { slug: "freebie", name: "Freebie", kind: "free" },
    });
    expect(free.status).toBe(201);

    const bad = await h.admin("/api/admin/products", {
      method: "POST",
      json: {
        slug: "Bad Slug!",
        name: "",
        kind: "one_time",
        price: { amount: 12.5, currency: "dollars" },
      },
    });
    expect(bad.status).toBe(400);
    const body = await bad.json();
    expect(body.code).toBe("invalid_input");
    expect(body.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      "name",
      "price.amount",
      "price.currency",
      "slug",
    ]);

    const dup = await h.admin("/api/admin/products", {
      method: "POST",
      json: { slug: "monthly", name: "Again", price: { amount: 100, currency: "usd" } },
    });
    expect(dup.status).toBe(409);
    const noPrice = await h.admin("/api/admin/products", {
      method: "POST",
      json: { slug: "noprice", name: "No price" },
    });
    expect(noPrice.status).toBe(400);
    expect((await noPrice.json()).message).toContain("price");
  });

  it("malformed and oversized JSON bodies get a clear 400 or 413", async () => {
    const malformed = await h.admin("/api/admin/products", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"slug":',
    });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).message).toBe("The request body is not valid JSON.");
    const array = await h.admin("/api/admin/grants", { method: "POST", json: [1, 2] });
    expect(array.status).toBe(400);
    const big = await h.admin("/api/admin/products", {
      method: "POST",
      json: { slug: "big", name: "x".repeat(100_000) },
    });
    expect(big.status).toBe(413);
    expect((await big.json()).code).toBe("too_large");
  });

  it("uploads versions, retires a file, and refuses uploads over the limit without storing them", async () => {
    const product = await h.createProduct();
    const v1 = await h.upload(product.slug, "../../etc/kit.zip", "one");
    expect(v1).toMatchObject({ filename: "kit.zip", version: 1, size: 3 });
    const v2 = await h.upload(product.slug, "kit.zip", "two!");
    expect(v2.version).toBe(2);
    // The same bytes again are no new version: the current one is kept and answered.
    const same = await h.upload(product.slug, "kit.zip", "two!");
    expect(same).toMatchObject({ id: v2.id, version: 2 });
    const listed = await (await h.admin(`/api/admin/products/${product.slug}/assets`)).json();
    expect(
      listed.assets.map((a: { version: number; active: boolean }) => [a.version, a.active]),
    ).toEqual([
      [2, true],
      [1, false],
    ]);

    const retire = await h.admin(`/api/admin/assets/${v2.id}`, {
      method: "PATCH",
      json: { active: false },
    });
    expect(retire.status).toBe(200);
    expect((await retire.json()).active).toBe(false);
    expect(
      (await h.admin("/api/admin/assets/ast_missing", { method: "PATCH", json: { active: false } }))
        .status,
    ).toBe(404);
    expect(
      (await h.admin(`/api/admin/assets/${v2.id}`, { method: "PATCH", json: { active: "no" } }))
        .status,
    ).toBe(400);

    const small = await makeHarness(dialect, { MAX_UPLOAD_SIZE: "1KB" });
    try {
      const p = await small.createProduct();
      const res = await small.admin(`/api/admin/products/${p.slug}/assets?filename=big.bin`, {
        method: "POST",
        body: "x".repeat(5000),
      });
      expect(res.status).toBe(413);
      const after = await (await small.admin(`/api/admin/products/${p.slug}/assets`)).json();
      expect(after.assets).toEqual([]);
    } finally {
      await small.close();
    }
    const noName = await h.admin(`/api/admin/products/${product.slug}/assets`, {
      method: "POST",
      body: "x",
    });
    expect(noName.status).toBe(400);
    const unknown = await h.admin("/api/admin/products/nope/assets?filename=a", {
      method: "POST",
      body: "x",
    });
    expect(unknown.status).toBe(404);
  });

  it("grants are idempotent, listed by email, and revocable", async () => {
    const product = await h.createProduct();
    const a = await h.grant("Grant@Example.com", product.slug);
    const b = await h.grant("grant@example.com", product.slug);
    expect(b.id).toBe(a.id);
    const listed = await (await h.admin("/api/admin/entitlements?email=grant@example.com")).json();
    expect(listed.entitlements).toEqual([
      expect.objectContaining({
        id: a.id,
        email: "grant@example.com",
        source: "grant",
        status: "active",
      }),
    ]);
    const revoked = await h.admin(`/api/admin/entitlements/${a.id}/revoke`, {
      method: "POST",
      json: { reason: "chargeback" },
    });
    expect(await revoked.json()).toMatchObject({ status: "revoked", revokedReason: "chargeback" });
    expect(
      (await h.admin("/api/admin/entitlements/ent_nope/revoke", { method: "POST" })).status,
    ).toBe(404);
    const again = await h.grant("grant@example.com", product.slug);
    expect(again).toMatchObject({ id: a.id, status: "active" });
    expect(
      (
        await h.admin("/api/admin/grants", {
          method: "POST",
          json: { email: "x@y.co", product: "nope" },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await h.admin("/api/admin/grants", {
          method: "POST",
          json: { email: "bad", product: product.slug },
        })
      ).status,
    ).toBe(400);
  });

  it("an unpublished product disappears from the store and its page, and cannot be claimed", async () => {
    const product = await h.createProduct({ slug: "hidden-one" });
    const hide = await h.admin(`/api/admin/products/${product.slug}`, {
      method: "PATCH",
      json: { active: false },
    });
    expect(hide.status).toBe(200);
    expect(await (await h.request("/")).text()).not.toContain("hidden-one");
    expect((await h.request("/p/hidden-one")).status).toBe(404);
    const all = await (await h.admin("/api/admin/products")).json();
    expect(all.products.find((p: { slug: string }) => p.slug === "hidden-one").active).toBe(false);
  });

  it("the outbox lists sent mail", async () => {
    await h.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "mail@example.com" }),
    });
    const { messages } = await (await h.admin("/api/admin/outbox")).json();
    expect(messages[0]).toEqual({
      to: "mail@example.com",
      subject: expect.any(String),
      text: expect.any(String),
      html: expect.any(String),
      createdAt: expect.any(String),
    });
  });
});
