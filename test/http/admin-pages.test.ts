import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const html = { accept: "text/html" };

describe.each(dialects)("seller pages on %s", (dialect) => {
  let h: Harness;
  let owner: string;
  let buyer: string;
  beforeAll(async () => {
    h = await makeHarness(dialect);
    owner = await h.signIn("owner@shop.test");
    buyer = await h.signIn("buyer@example.com");
  });
  afterAll(() => h.close());

  it("sends a signed-out visitor to sign in and back, and refuses a buyer in plain words", async () => {
    const out = await h.request("/admin/products", { headers: html });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/auth/login?next=%2Fadmin%2Fproducts");
    const refused = await h.request("/admin", { headers: html, cookie: buyer });
    expect(refused.status).toBe(403);
    const page = await refused.text();
    expect(page).toContain("buyer@example.com is not a seller account");
    expect(page).not.toContain("{");
  });

  it("shows the dashboard with the day's sale and download in the figures", async () => {
    const { product, asset } = await h.ownedProduct("fan@example.com");
    const fan = await h.signIn("fan@example.com");
    const download = await h.request(`/download/${product.slug}/${asset.id}`, { cookie: fan });
    expect(await download.text()).toBe("hello, buyer");
    const res = await h.request("/admin", { headers: html, cookie: owner });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("no-store");
    const page = await res.text();
    expect(page).toMatch(/0 sales and 1 downloads over the last 30 days/);
    expect(page).toContain('aria-current="page"');
  });

  const form = (cookie: string, fields: Record<string, string>) => ({
    method: "POST",
    cookie,
    headers: {
      ...html,
      "content-type": "application/x-www-form-urlencoded",
      origin: "http://shop.test",
    },
    body: new URLSearchParams(fields).toString(),
  });

  it("creates a product from the form, shows it, and edits its price", async () => {
    const created = await h.request(
      "/admin/products",
      form(owner, {
        name: "Icon Pack",
        slug: "icon-pack",
        kind: "one_time",
        price: "24.50",
        currency: "EUR",
        description: "300 icons",
      }),
    );
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toBe("/admin/products/icon-pack?done=created");
    const api = await (await h.admin("/api/admin/products/icon-pack")).json();
    expect(api).toMatchObject({
      name: "Icon Pack",
      price: { amount: 2450, currency: "eur" },
      kind: "one_time",
      active: false,
    });

    const page = await (
      await h.request("/admin/products/icon-pack?done=created", { headers: html, cookie: owner })
    ).text();
    expect(page).toContain("Product created as a draft.");
    expect(page).toContain('value="24.50"');
    expect(page).toContain("No files yet");

    const saved = await h.request(
      "/admin/products/icon-pack",
      form(owner, { name: "Icon Pack Pro", description: "400 icons", price: "30" }),
    );
    expect(saved.status).toBe(303);
    expect(await (await h.admin("/api/admin/products/icon-pack")).json()).toMatchObject({
      name: "Icon Pack Pro",
      description: "400 icons",
      price: { amount: 3000, currency: "eur" },
    });

    await h.upload("icon-pack", "icons.zip", "icons");
    const published = await h.request(
      "/admin/products/icon-pack/publish",
      form(owner, { published: "true" }),
    );
    expect(published.headers.get("location")).toBe("/admin/products/icon-pack?done=published");
    expect(await (await h.request("/", { headers: html })).text()).toContain("Icon Pack Pro");
  });

  it.each([
    [{ name: "X", slug: "Bad Slug!", kind: "one_time", price: "10", currency: "usd" }, "slug"],
    [
      { name: "X", slug: "no-price", kind: "one_time", price: "", currency: "usd" },
      "Price: is required",
    ],
    [
      { name: "X", slug: "odd-price", kind: "one_time", price: "12.345", currency: "usd" },
      "such as 19.00",
    ],
    [
      { name: "X", slug: "free-priced", kind: "free", price: "5", currency: "usd" },
      "free product has none",
    ],
    [{ name: "", slug: "nameless", kind: "one_time", price: "5", currency: "usd" }, "name"],
  ])(
    "shows a rejected product form again with its message and creates nothing (%o)",
    async (fields, message) => {
      const before = (await (await h.admin("/api/admin/products")).json()).products.length;
      const res = await h.request("/admin/products", form(owner, fields));
      expect(res.status).toBe(400);
      const page = await res.text();
      expect(page).toContain(message);
      expect(page).toContain(`value="${fields.slug.replace("!", "")}`.slice(0, 10));
      expect((await (await h.admin("/api/admin/products")).json()).products.length).toBe(before);
    },
  );

  it("refuses a duplicate slug in words and keeps the typed values", async () => {
    const { slug } = await h.productOnSale();
    const res = await h.request(
      "/admin/products",
      form(owner, { name: "Again", slug, kind: "one_time", price: "9", currency: "usd" }),
    );
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain("already exists");
    expect(page).toContain('value="Again"');
  });

  it("retires and restores a file, and only the product's own files", async () => {
    const { product, asset } = await h.ownedProduct("files@example.com");
    const other = await h.productOnSale();
    const retired = await h.request(
      `/admin/products/${product.slug}/files/${asset.id}`,
      form(owner, { active: "false" }),
    );
    expect(retired.headers.get("location")).toBe(`/admin/products/${product.slug}?done=retired`);
    const buyer = await h.signIn("files@example.com");
    expect(
      (await h.request(`/download/${product.slug}/${asset.id}`, { cookie: buyer })).status,
    ).toBe(410);
    const page = await (
      await h.request(`/admin/products/${product.slug}`, { headers: html, cookie: owner })
    ).text();
    expect(page).toContain("retired");
    expect(page).toContain("Restore");

    const wrong = await h.request(
      `/admin/products/${other.slug}/files/${asset.id}`,
      form(owner, { active: "true" }),
    );
    expect(wrong.status).toBe(404);
    await h.request(
      `/admin/products/${product.slug}/files/${asset.id}`,
      form(owner, { active: "true" }),
    );
    expect(
      await (await h.request(`/download/${product.slug}/${asset.id}`, { cookie: buyer })).text(),
    ).toBe("hello, buyer");
  });

  it("refuses a product form posted from another site", async () => {
    const res = await h.request("/admin/products", {
      ...form(owner, { name: "Evil", slug: "evil", kind: "free", currency: "usd" }),
      headers: {
        ...html,
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
      },
    });
    expect(res.status).toBe(403);
    expect((await h.admin("/api/admin/products/evil")).status).toBe(404);
  });

  it("serves the seller script that drives uploads", async () => {
    const res = await h.request("/assets/admin.js");
    expect(res.headers.get("content-type")).toContain("text/javascript");
    expect(await res.text()).toContain("/uploads/complete");
  });
});

describe.each(dialects)("the dashboard's figures on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
  });
  afterAll(() => h.close());

  it("counts a paid sale and its revenue on today's bar, and lists the order", async () => {
    const product = await h.productOnSale({ price: { amount: 2450, currency: "eur" } });
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const started = (await res.json()) as { url: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email: "payer@example.com" })).status).toBe(303);
    const owner = await h.signIn("owner@shop.test");
    const page = await waitFor(async () => {
      const text = await (await h.request("/admin", { headers: html, cookie: owner })).text();
      return text.includes("1 sales and") ? text : null;
    }, "the paid order on the dashboard");
    expect(page).toContain("€24.50");
    expect(page).toContain(`/admin/orders/${started.orderId}`);
    expect(page).toContain("payer@example.com");
  });
});
