import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const html = { accept: "text/html" };

/** The visible text of a page, without tags, for assertions about what a person reads. */
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

/**
 * What the seller pages show of the shop's data: checkouts nobody completed are kept out of the
 * orders (a filter and a count show them), products go by their names, and the dashboard's
 * figures say which period they cover. The JSON API lists orders as before.
 */
describe.each(dialects)("the seller's view of the shop's data on %s", (dialect) => {
  let h: Harness;
  let owner: string;
  let product: { id: string; slug: string; name: string };
  const orders = { paid: "", open: "", abandoned: "" };

  const page = async (path: string) =>
    (await h.request(path, { headers: html, cookie: owner })).text();

  const startCheckout = async () => {
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { url: string; orderId: string };
  };

  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
    owner = await h.signIn("owner@shop.test");
    product = await h.productOnSale({
      name: "Field Recordings Vol. 2",
      slug: "field-rec-2",
      price: { amount: 1500, currency: "usd" },
    });
    // One checkout the buyer left until it expired, one still open, one paid.
    orders.abandoned = (await startCheckout()).orderId;
    await h.deps.db
      .updateTable("orders")
      .set({ status: "abandoned" })
      .where("id", "=", orders.abandoned)
      .execute();
    orders.open = (await startCheckout()).orderId;
    const paid = await startCheckout();
    orders.paid = paid.orderId;
    expect((await payOnHostedPage(paid.url, { email: "payer@example.com" })).status).toBe(303);
    await waitFor(async () => (await page("/admin/orders")).includes(orders.paid), "the sale");
  });
  afterAll(() => h.close());

  it("lists completed checkouts as orders, and counts and filters the ones never completed", async () => {
    const list = await page("/admin/orders");
    expect(list).toContain(`/admin/orders/${orders.paid}`);
    expect(list).not.toContain(`/admin/orders/${orders.open}`);
    expect(list).not.toContain(`/admin/orders/${orders.abandoned}`);
    expect(textOf(list)).toContain(
      "Not listed: 2 checkouts started in the last 30 days and not completed.",
    );
    expect(list).toContain('href="/admin/orders?status=unfinished"');

    const unfinished = await page("/admin/orders?status=unfinished");
    expect(unfinished).toContain(`/admin/orders/${orders.open}`);
    expect(unfinished).toContain(`/admin/orders/${orders.abandoned}`);
    expect(unfinished).not.toContain(`/admin/orders/${orders.paid}`);
    expect(textOf(unfinished)).toMatch(/checkout open[\s\S]*abandoned/);
    expect(textOf(unfinished)).not.toContain("Not listed:");

    // Waiting for payment means a completed checkout (a bank transfer on its way), not an open one.
    const pending = await page("/admin/orders?status=pending");
    expect(pending).not.toContain(`/admin/orders/${orders.open}`);

    const dashboard = await page("/admin");
    expect(dashboard).toContain(`/admin/orders/${orders.paid}`);
    expect(dashboard).not.toContain(`/admin/orders/${orders.open}`);
  });

  it("names products on the seller pages, and keeps the JSON API's orders as they were", async () => {
    for (const path of ["/admin", "/admin/orders", "/admin/customers?email=payer%40example.com"]) {
      const text = textOf(await page(path));
      expect(text, path).toContain("Field Recordings Vol. 2");
      expect(text, path).not.toContain("field-rec-2");
    }
    const fan = await h.signIn("payer@example.com");
    const library = await (await h.request("/api/library", { cookie: fan })).json();
    const file = library.items[0].files[0] as { downloadUrl: string };
    await (await h.request(file.downloadUrl, { cookie: fan })).arrayBuffer();
    const downloads = textOf(await page("/admin/downloads"));
    expect(downloads).toContain("Field Recordings Vol. 2");
    expect(downloads).not.toContain("field-rec-2");

    const api = (await (await h.admin("/api/admin/orders")).json()) as {
      orders: Record<string, unknown>[];
    };
    expect(api.orders.map((o) => o.id).sort()).toEqual(Object.values(orders).sort());
    for (const o of api.orders) {
      expect(o.product).toBe("field-rec-2");
      expect(o).not.toHaveProperty("productName");
    }
    const apiDownloads = (await (await h.admin("/api/admin/downloads")).json()) as {
      downloads: Record<string, unknown>[];
    };
    expect(apiDownloads.downloads[0]?.product).toBe("field-rec-2");
    expect(apiDownloads.downloads[0]).not.toHaveProperty("productName");
  });

  it("says which period the dashboard's figures cover", async () => {
    const text = textOf(await page("/admin"));
    expect(text).toContain("1 Sales, last 30 days");
    expect(text).toContain("$15.00 Revenue, last 30 days");
    expect(text).toMatch(/\d+ Downloads, last 30 days/);
  });
});
