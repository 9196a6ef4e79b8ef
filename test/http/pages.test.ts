import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { ADMIN_TOKEN, type Harness, makeHarness } from "../support/harness.ts";

const html = { accept: "text/html,application/xhtml+xml" };

describe.each(dialects)("pages and free products on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  it("the storefront and product page show published products with price and files", async () => {
    const product = await h.createProduct({
      name: "Icon Pack",
      description: "200 icons",
      price: { amount: 1250, currency: "eur" },
    });
    await h.upload(product.slug, "icons.zip", "x".repeat(2048));
    const store = await (await h.request("/", { headers: html })).text();
    expect(store).toMatch(/^<!doctype html>/);
    expect(store).toContain("Icon Pack");
    expect(store).toContain("€12.50");
    const page = await h.request(`/p/${product.slug}`, { headers: html });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain("icons.zip");
    expect(body).toContain("2.0 KB");
    expect(body).toContain("Buy now");
  });

  it("coming back from a cancelled checkout says nothing was charged", async () => {
    const product = await h.createProduct();
    const page = await (
      await h.request(`/p/${product.slug}?checkout=cancelled`, { headers: html })
    ).text();
    expect(page).toContain("Checkout cancelled: nothing was charged.");
  });

  it("a free product is claimed by a signed-in user and appears in the library", async () => {
    const product = await h.createProduct({ kind: "free", name: "Free Guide", price: undefined });
    const asset = await h.upload(product.slug, "guide.pdf", "%PDF-1.4 guide");
    const anonymous = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: html,
    });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe(
      `/auth/login?next=${encodeURIComponent(`/p/${product.slug}`)}`,
    );

    const cookie = await h.signIn("reader@example.com");
    const claim = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      cookie,
      headers: { ...html, origin: "http://shop.test" },
    });
    expect(claim.status).toBe(303);
    expect(claim.headers.get("location")).toBe("/library");
    const again = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      cookie,
      headers: { accept: "application/json", origin: "http://shop.test" },
    });
    expect(again.status).toBe(201);
    const { entitlements } = await (
      await h.admin("/api/admin/entitlements?email=reader@example.com")
    ).json();
    expect(entitlements).toHaveLength(1);
    expect(entitlements[0]).toMatchObject({ source: "free", status: "active" });

    const library = await (await h.request("/library", { cookie, headers: html })).text();
    expect(library).toContain("Free Guide");
    expect(library).toContain(`/download/${product.slug}/${asset.id}`);
    const download = await h.request(`/download/${product.slug}/${asset.id}`, { cookie });
    expect(download.status).toBe(200);
    expect(await download.text()).toBe("%PDF-1.4 guide");
  });

  it("a paid product cannot be claimed for free", async () => {
    const product = await h.createProduct();
    const cookie = await h.signIn("cheap@example.com");
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      cookie,
      headers: { accept: "application/json", origin: "http://shop.test" },
    });
    expect(res.status).not.toBe(201);
    const { entitlements } = await (
      await h.admin("/api/admin/entitlements?email=cheap@example.com")
    ).json();
    expect(entitlements).toEqual([]);
  });

  it("a guest grant by email is found when that email signs in", async () => {
    const { product } = await h.ownedProduct("guest@example.com");
    const cookie = await h.signIn("GUEST@example.com");
    const library = await (await h.request("/api/library", { cookie })).json();
    expect(library.items.map((i: { product: { slug: string } }) => i.product.slug)).toEqual([
      product.slug,
    ]);
  });

  it("the library asks people to sign in; the API answers 401", async () => {
    const page = await h.request("/library", { headers: html });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/auth/login?next=%2Flibrary");
    const api = await h.request("/api/library");
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({
      code: "unauthenticated",
      message: "Please sign in to continue.",
      requestId: expect.any(String),
    });
  });

  it("denials reach people as pages in plain words, never as JSON or a stack trace", async () => {
    const { product, asset } = await h.ownedProduct("someone@example.com");
    const cases: [string, string | undefined, number, string][] = [
      [`/download/${product.slug}/${asset.id}`, undefined, 401, "Please sign in"],
      [
        `/download/${product.slug}/${asset.id}`,
        await h.signIn("nobody@example.com"),
        403,
        "You have not purchased this product.",
      ],
      ["/p/no-such-product", undefined, 404, "There is no such product."],
      [
        `/d/tgd_${"x".repeat(43)}`,
        undefined,
        410,
        "This download link has expired or is not valid.",
      ],
      ["/nowhere", undefined, 404, "There is nothing at this address."],
    ];
    for (const [path, cookie, status, text] of cases) {
      const res = await h.request(path, { headers: html, ...(cookie ? { cookie } : {}) });
      expect(res.status, path).toBe(status);
      expect(res.headers.get("content-type")).toContain("text/html");
      const body = await res.text();
      expect(body).toContain(text);
      expect(body).not.toContain("    at ");
    }
  });

  it("with the database gone: /readyz says 503 and pages answer 500 with a request id and no internals", async () => {
    const down = await makeHarness(dialect);
    await down.runtime.close();
    try {
      const ready = await down.request("/readyz");
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks).toContainEqual(
        expect.objectContaining({ name: "database", ok: false }),
      );
      const api = await down.request("/api/admin/products", {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(api.status).toBe(500);
      const body = await api.json();
      expect(body).toEqual({
        code: "internal",
        message: "Something went wrong on our side. Please try again.",
        requestId: expect.any(String),
      });
      const page = await down.request("/", { headers: html });
      expect(page.status).toBe(500);
      expect(await page.text()).not.toContain("    at ");
    } finally {
      await down.close().catch(() => {});
    }
  });
});
