import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

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
});
