import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { waitFor } from "../support/stripe.ts";
import { buy, html, readZip, sha256 } from "./order-context-support.ts";

/** Three files whose upload order, byte order and case-insensitive order all differ. */
const FILES = [
  { filename: "b-notes.txt", content: "notes ".repeat(500) },
  { filename: "C-Extras.bin", content: "extras ".repeat(20_000) },
  { filename: "a-Guide.pdf", content: "%PDF guide ".repeat(3000) },
];
const IN_ORDER = ["a-Guide.pdf", "b-notes.txt", "C-Extras.bin"];

async function downloadsOf(h: Harness, assetIds: string[]) {
  const res = await h.admin("/api/admin/downloads?limit=1000");
  const { downloads } = (await res.json()) as {
    downloads: { assetId: string; email: string | null; via: string }[];
  };
  return downloads.filter((d) => assetIds.includes(d.assetId));
}

describe.each(dialects)("a buyer's order context on %s", (dialect) => {
  let h: Harness;
  let product: { slug: string; name: string };
  let assets: { id: string; filename: string; sha256: string; size: number }[];
  let buyer: string;
  let purchase: Awaited<ReturnType<typeof buy>>;

  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
    product = await h.createProduct({
      name: "Field Kit",
      price: { amount: 1900, currency: "usd" },
    });
    assets = [];
    for (const f of FILES) assets.push(await h.upload(product.slug, f.filename, f.content));
    buyer = await h.signIn("kit-buyer@example.com");
    purchase = await buy(h, product.slug, "kit-buyer@example.com", buyer);
  });
  afterAll(() => h.close());

  it("the library lists each purchase's files by name, with its receipt and download-all links", async () => {
    const page = await (await h.request("/library", { headers: html, cookie: buyer })).text();
    expect(page).toContain(`href="/library/orders/${purchase.orderId}/receipt"`);
    expect(page).toContain(`href="http://shop.test/library/${product.slug}/all.zip"`);
    const shown = IN_ORDER.map((name) => page.indexOf(`<span class="name">${name}</span>`));
    expect(shown.every((at) => at > 0)).toBe(true);
    expect([...shown].sort((a, b) => a - b)).toEqual(shown);

    const api = await (await h.request("/api/library", { cookie: buyer })).json();
    expect(api.items[0].files.map((f: { filename: string }) => f.filename)).toEqual(IN_ORDER);

    // The success page shows the same order and the same two actions.
    const success = purchase.successPage;
    const onSuccess = IN_ORDER.map((name) => success.indexOf(`<span class="name">${name}</span>`));
    expect([...onSuccess].sort((a, b) => a - b)).toEqual(onSuccess);
    expect(success).toContain(`href="/library/orders/${purchase.orderId}/receipt"`);
    expect(success).toContain(`href="/library/${product.slug}/all.zip"`);

    // And the receipt mail.
    const mail = await waitFor(async () => {
      const res = await h.admin("/api/admin/outbox?to=kit-buyer%40example.com");
      const { messages } = (await res.json()) as { messages: { text: string }[] };
      return messages.find((m) => m.text.includes("What is in it:"));
    }, "the receipt mail");
    const listed = IN_ORDER.map((name) => mail.text.indexOf(`- ${name} (`));
    expect(listed.every((at) => at > 0)).toBe(true);
    expect([...listed].sort((a, b) => a - b)).toEqual(listed);
  });

  it("the receipt link takes the owner to the payment's receipt at Stripe, showing the amount", async () => {
    const res = await h.request(`/library/orders/${purchase.orderId}/receipt`, { cookie: buyer });
    expect(res.status).toBe(303);
    const location = res.headers.get("location") as string;
    const stripe = h.runtime.localStripeUrl as string;
    expect(location).toMatch(new RegExp(`^${stripe}/receipts/payment/ch_\\w+$`));
    const receipt = await fetch(location);
    expect(receipt.status).toBe(200);
    const text = await receipt.text();
    expect(text).toContain("Receipt");
    expect(text).toContain("$19.00");

    // Remembered on the order: the second opening answers the same without asking Stripe.
    const row = await h.deps.db
      .selectFrom("orders")
      .select(["receipt_url", "receipt_url_at"])
      .where("id", "=", purchase.orderId)
      .executeTakeFirstOrThrow();
    expect(row.receipt_url).toBe(location);
    expect(row.receipt_url_at).not.toBeNull();
    const again = await h.request(`/library/orders/${purchase.orderId}/receipt`, {
      cookie: buyer,
    });
    expect(again.headers.get("location")).toBe(location);
  });

  it("another buyer, a signed-out visitor, an unknown and a malformed id all get the same 404", async () => {
    const stranger = await h.signIn("stranger@example.com");
    const answers = [
      await h.request(`/library/orders/${purchase.orderId}/receipt`, { cookie: stranger }),
      await h.request(`/library/orders/${purchase.orderId}/receipt`),
      await h.request("/library/orders/ord_AAAAAAAAAAAAAAAAAAAA/receipt", { cookie: buyer }),
      await h.request("/library/orders/not%20an%20order/receipt", { cookie: buyer }),
    ];
    const bodies = await Promise.all(answers.map(async (r) => [r.status, await r.json()]));
    for (const [status, body] of bodies) {
      expect(status).toBe(404);
      expect(body).toMatchObject({
        code: "not_found",
        message: "There is no such order in your library.",
      });
    }
  });

  it("download all: one zip of the purchase's files, by name, each byte-exact and logged as one download", async () => {
    const ids = assets.map((a) => a.id);
    const before = (await downloadsOf(h, ids)).length;
    const res = await h.request(`/library/${product.slug}/all.zip`, { cookie: buyer });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toContain(
      `filename*=UTF-8''${product.slug}.zip`,
    );
    expect(res.headers.get("cache-control")).toContain("no-store");
    const zip = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get("content-length")).toBe(String(zip.length));
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(IN_ORDER);
    for (const entry of entries) {
      const asset = assets.find((a) => a.filename === entry.name);
      expect(sha256(entry.bytes), entry.name).toBe(asset?.sha256);
      expect(entry.utf8).toBe(true);
    }
    const logged = await downloadsOf(h, ids);
    expect(logged.length - before).toBe(3);
    for (const id of ids)
      expect(logged.filter((d) => d.assetId === id)).toContainEqual(
        expect.objectContaining({ email: "kit-buyer@example.com", via: "library" }),
      );
  });

  it("download all is refused as a single download is: signed out, not bought", async () => {
    const signedOut = await h.request(`/library/${product.slug}/all.zip`);
    const single = await h.request(`/download/${product.slug}/${assets[0]?.id}`);
    expect(signedOut.status).toBe(401);
    expect(await signedOut.json()).toMatchObject({ message: (await single.json()).message });

    const stranger = await h.signIn("not-a-buyer@example.com");
    const refused = await h.request(`/library/${product.slug}/all.zip`, { cookie: stranger });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ message: "You have not purchased this product." });
    const unknown = await h.request("/library/no-such-product/all.zip", { cookie: stranger });
    expect(unknown.status).toBe(404);
  });

  it("a guest's success page offers the receipt and the zip through the checkout session id", async () => {
    const guest = await buy(h, product.slug, "guest-kit@example.com");
    const proof = `session_id=${guest.sessionId}`;
    expect(guest.successPage).toContain(`href="/checkout/receipt?${proof}"`);
    expect(guest.successPage).toContain(`href="/checkout/all.zip?${proof}"`);

    const receipt = await h.request(`/checkout/receipt?${proof}`);
    expect(receipt.status).toBe(303);
    expect(await (await fetch(receipt.headers.get("location") as string)).text()).toContain(
      "$19.00",
    );
    const zip = await h.request(`/checkout/all.zip?${proof}`);
    expect(zip.status).toBe(200);
    expect(readZip(new Uint8Array(await zip.arrayBuffer())).map((e) => e.name)).toEqual(IN_ORDER);
    const bad = await h.request("/checkout/all.zip?session_id=cs_test_doesnotexist000");
    expect(bad.status).toBe(404);
  });

  it("a refunded buyer cannot download all, and the receipt shows the refund", async () => {
    const email = "refund-kit@example.com";
    const cookie = await h.signIn(email);
    const bought = await buy(h, product.slug, email, cookie);
    const before200 = await h.request(`/library/${product.slug}/all.zip`, { cookie });
    expect(before200.status).toBe(200);
    await before200.arrayBuffer();

    const refund = await fetch(`${h.runtime.localStripeUrl}/_local/refunds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: bought.sessionId }),
    });
    expect(refund.status).toBe(200);
    await waitFor(async () => {
      const res = await h.admin("/api/admin/orders?limit=1000");
      const { orders } = (await res.json()) as { orders: { id: string; status: string }[] };
      return orders.find((o) => o.id === bought.orderId)?.status === "refunded";
    }, "the refund");

    const ids = assets.map((a) => a.id);
    const before = (await downloadsOf(h, ids)).length;
    const refused = await h.request(`/library/${product.slug}/all.zip`, { cookie });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      message: "This purchase was refunded, so its files are no longer available.",
    });
    expect((await downloadsOf(h, ids)).length).toBe(before);

    const receipt = await h.request(`/library/orders/${bought.orderId}/receipt`, { cookie });
    expect(receipt.status).toBe(303);
    const page = await (await fetch(receipt.headers.get("location") as string)).text();
    expect(page).toContain("Refunded");
  });

  it("a subscription's receipt link opens its latest invoice's hosted page", async () => {
    const plan = await h.createProduct({
      name: "Monthly Pack",
      kind: "subscription",
      interval: "month",
      price: { amount: 700, currency: "usd" },
    });
    await h.upload(plan.slug, "pack-1.zip", "pack one");
    const email = "subscriber@example.com";
    const cookie = await h.signIn(email);
    const bought = await buy(h, plan.slug, email, cookie);
    const res = await h.request(`/library/orders/${bought.orderId}/receipt`, { cookie });
    expect(res.status).toBe(303);
    const location = res.headers.get("location") as string;
    expect(location).toMatch(/\/invoices\/in_\w+$/);
    const invoice = await (await fetch(location)).text();
    expect(invoice).toContain("Invoice");
    expect(invoice).toContain("$7.00");
  });
});
