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
    const product = await h.productOnSale();
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

  it("a free product is claimed with just an email: the mailed link proves the address and one click hands over the files", async () => {
    const product = await h.createProduct({ kind: "free", name: "Free Kit", price: undefined });
    await h.upload(product.slug, "kit.zip", "kit bytes");
    const form = (body: string, path = `/checkout/${product.slug}`) =>
      h.request(path, {
        method: "POST",
        headers: {
          ...html,
          "content-type": "application/x-www-form-urlencoded",
          origin: "http://shop.test",
        },
        body,
      });
    const entitlementsOf = async (email: string) =>
      (await (await h.admin(`/api/admin/entitlements?email=${email}`)).json()).entitlements;

    const page = await (await h.request(`/p/${product.slug}`, { headers: html })).text();
    expect(page).toContain("Email me the files");

    const refused = await form("email=not-an-address");
    expect(refused.status).toBe(400);
    const refusedPage = await refused.text();
    expect(refusedPage).toContain("must be an email address");
    expect(refusedPage).toContain('value="not-an-address"');

    const asked = await form("email=Taker%40Example.com");
    expect(asked.status).toBe(303);
    const sentPage = await (
      await h.request(asked.headers.get("location") as string, { headers: html })
    ).text();
    expect(sentPage).toContain("Check your email");
    expect(sentPage).toContain("taker@example.com");
    // Nothing is granted until the mailed link is used.
    expect(await entitlementsOf("taker@example.com")).toHaveLength(0);

    const mail = await h.lastMailTo("taker@example.com");
    expect(mail.subject).toBe("Your free copy of Free Kit");
    const link = new URL(/https?:\/\/\S+\/claim\/\S+/.exec(mail.text)?.[0] as string);
    const path = `${link.pathname}${link.search}`;

    // Opening it (as a mail scanner would) claims nothing; the one click does.
    const opened = await h.request(path, { headers: html });
    expect(opened.status).toBe(200);
    expect(opened.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await opened.text()).toContain("Get my files");
    expect(await entitlementsOf("taker@example.com")).toHaveLength(0);

    const claimed = await form("", path);
    expect(claimed.status).toBe(303);
    const files = await (
      await h.request(new URL(claimed.headers.get("location") as string).pathname, {
        headers: html,
      })
    ).text();
    expect(files).toContain("kit.zip");
    expect(await form("", path).then((r) => r.status)).toBe(303);
    const entitlements = await entitlementsOf("taker@example.com");
    expect(entitlements).toHaveLength(1);
    expect(entitlements[0]).toMatchObject({ source: "free", status: "active" });

    // Signing in later with the address finds it in the library.
    const cookie = await h.signIn("taker@example.com");
    const library = await (await h.request("/library", { cookie, headers: html })).text();
    expect(library).toContain("Free Kit");

    // A tampered, foreign or expired link gets one answer, and grants nothing.
    const tampered = path.replace("taker%40example.com", "thief%40example.com");
    const otherProduct = await h.createProduct({ kind: "free", name: "Other", price: undefined });
    const foreign = path.replace(`/claim/${product.slug}`, `/claim/${otherProduct.slug}`);
    for (const bad of [tampered, foreign, `/claim/${product.slug}`, "/claim/no-such-thing?sig=x"]) {
      const res = await form("", bad);
      expect(res.status, bad).toBe(410);
      expect(await res.text()).toContain("This link has expired or is not valid");
    }
    h.clock.advance(25 * 3_600_000);
    expect((await h.request(path, { headers: html })).status).toBe(410);
    expect(await entitlementsOf("thief@example.com")).toHaveLength(0);
  });

  it("claim mails are limited per inbox, and a program asking without an address is told to sign in", async () => {
    const product = await h.productOnSale({ kind: "free", name: "Limited", price: undefined });
    const ask = (email: string) =>
      h.request(`/checkout/${product.slug}`, {
        method: "POST",
        headers: {
          accept: "application/json",
          "content-type": "application/json",
          origin: "http://shop.test",
        },
        body: JSON.stringify({ email }),
      });
    for (let i = 0; i < 5; i++) expect((await ask("busy@example.com")).status).toBe(202);
    const limited = await ask("busy@example.com");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    const noAddress = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    expect(noAddress.status).toBe(401);
  });

  it("a paid product cannot be claimed for free", async () => {
    const product = await h.productOnSale();
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
