import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const html = { accept: "text/html" };

/** Issue 16, point 2: nothing can be bought that has nothing to deliver. */
describe.each(dialects)("publishing on %s", (dialect) => {
  let h: Harness;
  let owner: string;
  beforeAll(async () => {
    h = await makeHarness(dialect);
    owner = await h.signIn("owner@shop.test");
  });
  afterAll(() => h.close());

  const form = (path: string, fields: Record<string, string>) =>
    h.request(path, {
      method: "POST",
      cookie: owner,
      headers: {
        ...html,
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://shop.test",
      },
      body: new URLSearchParams(fields).toString(),
    });
  const store = async () => (await h.request("/", { headers: html })).text();
  // Refused before any payment provider is asked.
  const checkout = (slug: string) =>
    h.request(`/checkout/${slug}`, { method: "POST", headers: { accept: "application/json" } });

  it("the seller's form makes a draft; publishing refuses until there is a file, says what is missing, then puts it on sale", async () => {
    const blank = await (
      await h.request("/admin/products/new", { headers: html, cookie: owner })
    ).text();
    expect(blank).toContain('<select id="currency" name="currency">');
    expect(blank).toContain('<option value="eur">EUR</option>');
    expect(blank).not.toContain("Publish now");
    const created = await form("/admin/products", {
      name: "Empty Kit",
      slug: "empty-kit",
      kind: "one_time",
      price: "9.00",
      currency: "usd",
    });
    expect(created.status).toBe(303);
    const draft = await (
      await h.request("/admin/products/empty-kit", { headers: html, cookie: owner })
    ).text();
    expect(draft).toContain("Ready to sell?");
    expect(draft).toContain("At least one file to deliver");
    expect(draft).not.toContain("Publish now");

    const refused = await form("/admin/products/empty-kit/publish", { published: "true" });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain(
      "Not published yet: at least one file to deliver is missing (Upload the file buyers get.)",
    );
    expect((await (await h.admin("/api/admin/products/empty-kit")).json()).published).toBe(false);
    expect(await store()).not.toContain("Empty Kit");
    expect((await checkout("empty-kit")).status).toBe(404);

    const asset = await h.upload("empty-kit", "kit.zip", "kit bytes");
    const published = await form("/admin/products/empty-kit/publish", { published: "true" });
    expect(published.headers.get("location")).toBe("/admin/products/empty-kit?done=published");
    expect(await store()).toContain("Empty Kit");
    expect((await h.request("/p/empty-kit", { headers: html })).status).toBe(200);

    // Retiring the last file takes it out of the store, and its page says why.
    expect(
      (await form(`/admin/products/empty-kit/files/${asset.id}`, { active: "false" })).status,
    ).toBe(303);
    expect(await store()).not.toContain("Empty Kit");
    const page = await (
      await h.request("/admin/products/empty-kit", { headers: html, cookie: owner })
    ).text();
    expect(page).toContain("Published, but not on sale");
  });

  it("through the admin API a product goes on sale by itself with its first active file, and not before; published: false keeps it off", async () => {
    const product = await h.createProduct({ name: "Api Kit" });
    expect(await store()).not.toContain("Api Kit");
    expect((await h.request(`/p/${product.slug}`, { headers: html })).status).toBe(404);
    await h.upload(product.slug, "api.zip", "api bytes");
    expect(await store()).toContain("Api Kit");
    expect((await h.request(`/p/${product.slug}`, { headers: html })).status).toBe(200);

    const hidden = await h.createProduct({ name: "Hidden Kit", published: false });
    await h.upload(hidden.slug, "hidden.zip", "hidden");
    expect(await store()).not.toContain("Hidden Kit");
    expect((await h.admin(`/api/admin/products/${hidden.slug}`)).status).toBe(200);
  });

  it("the seller previews the product as its owner sees it in the library, and its file opens", async () => {
    const product = await h.createProduct({ name: "Preview Kit", published: false });
    const asset = await h.upload(product.slug, "preview.zip", "preview bytes");
    const preview = await h.request(`/admin/products/${product.slug}/preview`, {
      headers: html,
      cookie: owner,
    });
    expect(preview.status).toBe(200);
    const page = await preview.text();
    expect(page).toContain("Preview: this is what a buyer who owns this product sees");
    expect(page).toContain("Your library");
    expect(page).toContain("preview.zip");
    const link = `/admin/products/${product.slug}/files/${asset.id}`;
    expect(page).toContain(link);
    const file = await h.request(link, { cookie: owner });
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("preview bytes");
    // Nobody else opens it: not a buyer, not a stranger.
    const buyer = await h.signIn("someone@example.com");
    expect((await h.request(link, { cookie: buyer })).status).toBe(403);
    expect(
      (await h.request(`/admin/products/${product.slug}/preview`, { cookie: buyer })).status,
    ).toBe(403);
  });
});
