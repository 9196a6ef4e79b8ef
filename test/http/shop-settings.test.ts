import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderReference } from "../../src/core/orders/reference.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const html = { accept: "text/html" };
/** The smallest PNG: one transparent pixel. */
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);
const SVG = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
);

/**
 * The shop's name, support address, time zone and logo, set by the seller (issue 16, point 8):
 * every page and mail shows them, dates are written in the shop's zone, and the receipt names
 * the order by a reference the seller's order list finds.
 */
describe.each(dialects)("the shop's settings on %s", (dialect) => {
  let h: Harness;
  let owner: string;

  const page = async (path: string, cookie = owner) =>
    (await h.request(path, { headers: html, cookie })).text();
  const form = (path: string, fields: Record<string, string>) =>
    h.request(path, {
      method: "POST",
      cookie: owner,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: PUBLIC_URL },
      body: new URLSearchParams(fields).toString(),
    });
  const uploadLogo = (bytes: Uint8Array, name: string) => {
    const body = new FormData();
    body.set("logo", new Blob([bytes.slice()]), name);
    return h.request("/admin/settings/logo", {
      method: "POST",
      cookie: owner,
      headers: { origin: PUBLIC_URL },
      body,
    });
  };

  beforeAll(async () => {
    h = await makeHarness(dialect, { SHOP_NAME: "Configured Name" }, { stripe: true });
    owner = await h.signIn("owner@shop.test");
  });
  afterAll(() => h.close());

  it("starts from the configuration: its name, no support address, UTC", async () => {
    const shop = await (await h.admin("/api/admin/shop")).json();
    expect(shop).toEqual({
      name: "Configured Name",
      supportEmail: null,
      timeZone: "UTC",
      logoUrl: null,
    });
  });

  it("refuses a bad time zone or address with the reason, and changes nothing", async () => {
    const res = await form("/admin/settings/shop", {
      name: "Pixel Forge",
      supportEmail: "help@pixelforge.test",
      timeZone: "Mars/Olympus_Mons",
    });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain("is not a time zone: use a name such as Europe/Berlin");
    // What was typed stays in the form.
    expect(body).toContain('value="help@pixelforge.test"');
    const api = await h.admin("/api/admin/shop", {
      method: "PUT",
      json: { name: "Pixel Forge", supportEmail: "not an address", timeZone: "UTC" },
    });
    expect(api.status).toBe(400);
    expect((await api.json()).message).toMatch(/supportEmail.*email address/);
    expect((await (await h.admin("/api/admin/shop")).json()).name).toBe("Configured Name");
  });

  it("a saved name, address and zone show on every page at once, dates in that zone", async () => {
    const res = await form("/admin/settings/shop", {
      name: "Pixel Forge",
      supportEmail: "help@pixelforge.test",
      timeZone: "Asia/Tokyo",
    });
    expect(res.status).toBe(303);
    expect(await page(res.headers.get("location") as string)).toContain("Shop settings saved.");
    for (const path of ["/", "/auth/login", "/admin"]) {
      const body = await page(path);
      expect(body).toContain('<a class="brand" href="/">Pixel Forge</a>');
      expect(body).toContain('href="mailto:help@pixelforge.test"');
    }
    // A sale's dates on the seller's pages are in Tokyo time (UTC+9, no summer time).
    const product = await h.productOnSale({ name: "Brushes" });
    const started = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const { url, orderId } = (await started.json()) as { url: string; orderId: string };
    await payOnHostedPage(url, { email: "tokyo@example.com" });
    await waitFor(async () => (await page("/admin/orders")).includes(orderId), "the sale");
    const order = await page(`/admin/orders/${orderId}`);
    const created = (
      await h.deps.db
        .selectFrom("orders")
        .select("created_at")
        .where("id", "=", orderId)
        .executeTakeFirstOrThrow()
    ).created_at;
    const tokyo = new Date(created + 9 * 3600_000).toISOString().slice(0, 16).replace("T", " ");
    expect(order).toContain(`>${tokyo} GMT+9</time>`);
  });

  it("mails carry the name, the support address as Reply-To, and the order's reference", async () => {
    const mail = await waitFor(async () => {
      const [message] = (await (await h.admin("/api/admin/outbox?to=tokyo%40example.com")).json())
        .messages;
      return message;
    }, "the receipt");
    expect(mail.subject).toContain("Brushes");
    expect(mail.text).toContain("from Pixel Forge");
    expect(mail.text).toContain("Questions? Reply to this email or write to help@pixelforge.test.");
    expect(mail.text).toMatch(/GMT\+9/);
    const { orders } = await (await h.admin("/api/admin/orders?limit=1")).json();
    const reference = orderReference(orders[0].id);
    expect(orders[0].reference).toBe(reference);
    expect(mail.text).toContain(`Order reference: ${reference}`);
    expect(mail.text).not.toContain(orders[0].id);
  });

  it("finds an order by the reference a buyer quotes, however it is typed", async () => {
    const { orders } = await (await h.admin("/api/admin/orders?limit=1")).json();
    const quoted = orders[0].reference.toLowerCase().replace("-", " ");
    const list = await page(`/admin/orders?email=${encodeURIComponent(quoted)}`);
    expect(list).toContain(`/admin/orders/${orders[0].id}`);
    const api = await (
      await h.admin(`/api/admin/orders?reference=${encodeURIComponent(quoted)}`)
    ).json();
    expect(api.orders.map((o: { id: string }) => o.id)).toEqual([orders[0].id]);
    expect((await (await h.admin("/api/admin/orders?reference=NOT-A-REF")).json()).orders).toEqual(
      [],
    );
  });

  it("takes a logo by its bytes, shows it on pages and in mails, and refuses an SVG", async () => {
    const svg = await uploadLogo(SVG, "logo.png");
    expect(svg.status).toBe(400);
    expect(await svg.text()).toContain("SVG is not accepted");
    expect((await (await h.admin("/api/admin/shop")).json()).logoUrl).toBeNull();

    const res = await uploadLogo(PNG, "logo.png");
    expect(res.status).toBe(303);
    const { logoUrl } = await (await h.admin("/api/admin/shop")).json();
    expect(logoUrl).toMatch(new RegExp(`^${PUBLIC_URL}/images/[0-9a-f]{64}\\.png$`));
    const path = new URL(logoUrl).pathname;
    expect(await page("/")).toContain(`<img src="${path}" alt="" height="28"/>Pixel Forge`);
    const image = await h.request(path);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await image.arrayBuffer())).toEqual(PNG);

    await h.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "logo@example.com" }),
    });
    const [signIn] = (await (await h.admin("/api/admin/outbox?to=logo%40example.com")).json())
      .messages;
    expect(signIn.html).toContain(`src="${logoUrl}"`);

    const removed = await form("/admin/settings/logo/remove", {});
    expect(removed.status).toBe(303);
    expect(await page("/")).not.toContain("/images/");
  });

  it("the API saves and reads the same settings, for the seller only", async () => {
    const saved = await h.admin("/api/admin/shop", {
      method: "PUT",
      json: { name: "  Pixel Forge Studio ", supportEmail: "", timeZone: "Europe/Berlin" },
    });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toEqual({
      name: "Pixel Forge Studio",
      supportEmail: null,
      timeZone: "Europe/Berlin",
      logoUrl: null,
    });
    expect(await page("/")).not.toContain("mailto:");
    const buyer = await h.signIn("buyer@example.com");
    expect((await h.request("/api/admin/shop", { cookie: buyer })).status).toBe(403);
    expect((await h.request("/api/admin/shop")).status).toBe(401);
  });
});
