import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, signature, waitFor } from "../support/stripe.ts";

const html = { accept: "text/html" };
let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

/** What a browser sends with a form: urlencoded fields from our own origin. */
function form(fields: Record<string, string>, origin = PUBLIC_URL) {
  return {
    method: "POST",
    headers: { ...html, "content-type": "application/x-www-form-urlencoded", origin },
    body: new URLSearchParams(fields).toString(),
  };
}

/** The visible text of a page, without tags, for assertions about what a person reads. */
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

/** Buys a product through the local Stripe as a guest; the success page confirms it. */
async function buy(h: Harness, slug: string, email: string) {
  const res = await h.request(`/checkout/${slug}`, {
    method: "POST",
    headers: { accept: "application/json", origin: PUBLIC_URL },
  });
  expect(res.status).toBe(201);
  const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
  const paid = await payOnHostedPage(started.url, { email });
  expect(paid.status).toBe(303);
  const success = await h.request(paid.headers.get("location") as string, { headers: html });
  expect(await success.text()).toContain("Payment received. Your files are ready.");
  return started;
}

async function orderStatus(h: Harness, orderId: string) {
  const res = await h.admin("/api/admin/orders?limit=1000");
  const { orders } = (await res.json()) as { orders: { id: string; status: string }[] };
  return orders.find((o) => o.id === orderId)?.status;
}

async function entitlementsOf(h: Harness, email: string) {
  const res = await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`);
  return (await res.json()).entitlements as {
    id: string;
    status: string;
    source: string;
    revokedReason: string | null;
    product: { slug: string };
  }[];
}

async function mailsTo(h: Harness, email: string) {
  const res = await h.admin(`/api/admin/outbox?to=${encodeURIComponent(email)}`);
  return (await res.json()).messages as { subject: string; text: string }[];
}

const receiptLink = (text: string) => /http:\/\/shop\.test\/d\/tgd_[\w-]+/.exec(text)?.[0];

describe.each(dialects)("seller sales pages on %s", (dialect) => {
  let h: Harness;
  let owner: string;
  let buyer: string;
  let product: { id: string; slug: string; name: string };
  let sale: { orderId: string; sessionId: string };
  let refundedOrderId = "";
  const saleEmail = uniqueEmail("sale");

  const page = async (path: string, cookie = owner) => {
    const res = await h.request(path, { headers: html, cookie });
    return { status: res.status, html: await res.text(), res };
  };
  const post = (path: string, fields: Record<string, string>, cookie = owner, origin?: string) =>
    h.request(path, { ...form(fields, origin), cookie });

  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
    owner = await h.signIn("owner@shop.test");
    buyer = await h.signIn("buyer@example.com");
    // On sale with its one file, which the tests below download.
    product = await h.createProduct({
      name: "Sales Kit",
      price: { amount: 2500, currency: "usd" },
    });
    await h.upload(product.slug, "sales-kit.zip", "sales kit bytes");
    sale = await buy(h, product.slug, saleEmail);
    await waitFor(async () => (await mailsTo(h, saleEmail)).length > 0, "the receipt");
  });
  afterAll(() => h.close());

  it("renders every page for an admin, and refuses a buyer and a forged cross-site form", async () => {
    const paths = [
      "/admin/orders",
      `/admin/orders/${sale.orderId}`,
      "/admin/customers",
      "/admin/tokens",
      "/admin/downloads",
      "/admin/webhooks",
      "/admin/settings",
    ];
    for (const path of paths) {
      const seller = await page(path);
      expect(seller.status, path).toBe(200);
      expect(seller.res.headers.get("cache-control"), path).toContain("no-store");
      expect(seller.html, path).toContain('aria-current="page"');
      const refused = await page(path, buyer);
      expect(refused.status, path).toBe(403);
      expect(refused.html).toContain("buyer@example.com is not a seller account");
    }
    const posts: [string, Record<string, string>][] = [
      [`/admin/orders/${sale.orderId}/refund`, {}],
      [`/admin/orders/${sale.orderId}/resend-receipt`, {}],
      ["/admin/customers/grant", { email: "gift@example.com", product: product.slug }],
      ["/admin/tokens", { email: saleEmail, product: product.slug, expiresIn: "24h" }],
    ];
    for (const [path, fields] of posts) {
      expect((await post(path, fields, buyer)).status, path).toBe(403);
      const forged = await post(path, fields, owner, "https://evil.example");
      expect(forged.status, path).toBe(403);
    }
    expect(await entitlementsOf(h, "gift@example.com")).toEqual([]);
    expect(await orderStatus(h, sale.orderId)).toBe("paid");
    expect(await mailsTo(h, saleEmail)).toHaveLength(1);
  });

  it("lists orders newest first, filters by status and email, and pages with ?before=", async () => {
    const other = await buy(h, product.slug, uniqueEmail("other"));
    const all = await page("/admin/orders");
    expect(all.html.indexOf(`/admin/orders/${other.orderId}`)).toBeGreaterThan(-1);
    expect(all.html.indexOf(`/admin/orders/${other.orderId}`)).toBeLessThan(
      all.html.indexOf(`/admin/orders/${sale.orderId}`),
    );

    const mine = await page(`/admin/orders?status=paid&email=${encodeURIComponent(saleEmail)}`);
    expect(mine.html).toContain(`/admin/orders/${sale.orderId}`);
    expect(mine.html).not.toContain(`/admin/orders/${other.orderId}`);
    const none = await page("/admin/orders?status=refunded");
    expect(textOf(none.html)).toContain("No orders match these filters.");

    const first = await page("/admin/orders?limit=1");
    expect(first.html).toContain(`/admin/orders/${other.orderId}`);
    const older = /href="(\/admin\/orders\?[^"]*before=[^"]+)"/.exec(first.html)?.[1];
    expect(older).toBeDefined();
    const second = await page((older as string).replaceAll("&amp;", "&"));
    expect(second.html).toContain(`/admin/orders/${sale.orderId}`);
    expect(second.html).not.toContain(`/admin/orders/${other.orderId}`);

    const bad = await page("/admin/orders?status=lost");
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toMatch(/status: must be one of paid, pending/);
    expect(bad.html).not.toContain('"code"');
  });

  it("shows an order's facts, its access and the Stripe events about it", async () => {
    await waitFor(
      async () =>
        (await page(`/admin/orders/${sale.orderId}`)).html.includes("checkout.session.completed"),
      "the webhook on the order page",
    );
    const { html: body } = await page(`/admin/orders/${sale.orderId}`);
    const text = textOf(body);
    expect(text).toContain("Sales Kit");
    expect(text).toContain(saleEmail);
    expect(text).toContain("$25.00");
    expect(text).toContain("Paid: the buyer has access.");
    expect(text).toMatch(/Receipt sent \d{4}-\d\d-\d\d/);
    expect(body).toMatch(/<code>pi_[\w]+<\/code>/);
    expect(body).toContain(`<code>${sale.sessionId}</code>`);
    expect(text).toMatch(/Access from this order .*active/);
    expect(body).toContain("Refund $25.00");
    expect(body).toContain("data-confirm=");
  });

  it("resends a receipt with a fresh link once, and refuses a double click", async () => {
    h.clock.advance(61_000);
    const sent = await post(`/admin/orders/${sale.orderId}/resend-receipt`, {});
    expect(sent.status).toBe(303);
    expect(sent.headers.get("location")).toBe(`/admin/orders/${sale.orderId}?done=receipt-sent`);
    const mails = await mailsTo(h, saleEmail);
    expect(mails).toHaveLength(2);
    expect(mails[0]?.subject).toBe("Your purchase: Sales Kit");
    expect(receiptLink(mails[0]?.text ?? "")).not.toBe(receiptLink(mails[1]?.text ?? ""));
    expect(textOf((await page(sent.headers.get("location") as string)).html)).toContain(
      "Receipt sent again, with a fresh download link.",
    );

    const again = await post(`/admin/orders/${sale.orderId}/resend-receipt`, {});
    expect(again.status).toBe(400);
    expect(textOf(await again.text())).toContain("was sent less than a minute ago");
    expect(await mailsTo(h, saleEmail)).toHaveLength(2);

    const pending = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const { orderId } = (await pending.json()) as { orderId: string };
    const refused = await post(`/admin/orders/${orderId}/resend-receipt`, {});
    expect(refused.status).toBe(400);
    expect(textOf(await refused.text())).toContain("Only a paid order has a receipt to send");
  });

  it("refunds through Stripe: the page says what happens, and access ends when Stripe confirms", async () => {
    const email = uniqueEmail("refund");
    const bought = await buy(h, product.slug, email);
    refundedOrderId = bought.orderId;
    const link = await waitFor(
      async () => receiptLink((await mailsTo(h, email))[0]?.text ?? ""),
      "the receipt link",
    );
    expect((await h.request(link, { headers: html })).status).toBe(200);

    const refunded = await post(`/admin/orders/${bought.orderId}/refund`, {});
    expect(refunded.status).toBe(303);
    const location = refunded.headers.get("location") as string;
    expect(location).toBe(`/admin/orders/${bought.orderId}?done=refund-requested`);
    // Stripe may have confirmed it by the time the page loads; then the page says so.
    expect(textOf((await page(location)).html)).toMatch(
      /Refund requested; access ends when Stripe confirms it \(usually seconds\)\.|Refunded: Stripe has confirmed it\./,
    );

    await waitFor(async () => (await orderStatus(h, bought.orderId)) === "refunded", "the refund");
    const [entitlement] = await entitlementsOf(h, email);
    expect(entitlement).toMatchObject({ status: "revoked", revokedReason: "refunded" });
    const denied = await h.request(link, { headers: html });
    expect(denied.status).toBe(403);
    expect(textOf(await denied.text())).toContain("This purchase was refunded");
    const after = textOf((await page(`/admin/orders/${bought.orderId}`)).html);
    expect(after).toContain("Refunded in Stripe.");
    expect(after).toContain("charge.refunded");
    // The Links page no longer shows the refunded buyer's receipt link as working.
    const links = await page(`/admin/tokens?email=${encodeURIComponent(email)}`);
    const table = textOf(/<table[\s\S]*?<\/table>/.exec(links.html)?.[0] ?? "");
    expect(table).toContain("refunded");
    expect(table).not.toMatch(/\bactive\b/);
    // The buyer's library says what happened rather than going quiet.
    const buyerCookie = await h.signIn(email);
    const library = textOf(
      await (await h.request("/library", { headers: html, cookie: buyerCookie })).text(),
    );
    expect(library).toContain("Purchases that ended");
    expect(library).toContain(`${product.name} Refunded This purchase was refunded`);
    expect(library).toContain("None of your purchases gives you files right now.");
    const reloaded = textOf((await page(location)).html);
    expect(reloaded).toContain("Refunded: Stripe has confirmed it.");
    expect(reloaded).not.toContain("Reload to see");

    const twice = await post(`/admin/orders/${bought.orderId}/refund`, {});
    expect(twice.status).toBe(400);
    expect(textOf(await twice.text())).toContain("This order has already been refunded.");
  });

  it("sends the seller to Stripe's dashboard to refund a subscription", async () => {
    const monthly = await h.productOnSale({
      name: "Monthly Kit",
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "usd" },
    });
    const email = uniqueEmail("subscriber");
    const started = await buy(h, monthly.slug, email);
    const body = textOf((await page(`/admin/orders/${started.orderId}`)).html);
    expect(body).toMatch(/Subscription sub_\w+/);
    expect(body).toContain("This is a subscription: cancel or refund it in Stripe's dashboard.");
    expect(body).not.toContain("Refund $9.00");
    const refused = await post(`/admin/orders/${started.orderId}/refund`, {});
    expect(refused.status).toBe(400);
    expect(textOf(await refused.text())).toContain(
      "This order is a subscription. Cancel or refund it in Stripe's dashboard",
    );
    expect(await orderStatus(h, started.orderId)).toBe("paid");
    expect((await entitlementsOf(h, email))[0]?.status).toBe("active");
  });

  it("grants and revokes access from the customers page; a bad form comes back and writes nothing", async () => {
    const email = uniqueEmail("gift");
    const bad = await post("/admin/customers/grant", {
      email: "not an email",
      product: product.slug,
    });
    expect(bad.status).toBe(400);
    const badText = textOf(await bad.text());
    expect(badText).toContain("Email: give an email address");
    expect(badText).not.toContain("Access granted");
    const noProduct = await post("/admin/customers/grant", { email, product: "" });
    expect(noProduct.status).toBe(400);
    const kept = await noProduct.text();
    expect(textOf(kept)).toContain("Choose the product to give.");
    expect(kept).toContain(`value="${email}"`);
    expect(await entitlementsOf(h, email)).toEqual([]);

    const granted = await post("/admin/customers/grant", {
      email: email.toUpperCase(),
      product: product.slug,
    });
    expect(granted.status).toBe(303);
    expect(granted.headers.get("location")).toBe(
      `/admin/customers?email=${encodeURIComponent(email)}&done=granted`,
    );
    const [held] = await entitlementsOf(h, email);
    expect(held).toMatchObject({ status: "active", source: "grant" });
    const view = await page(granted.headers.get("location") as string);
    expect(textOf(view.html)).toContain("Access granted");
    expect(textOf(view.html)).toMatch(/Sales Kit granted active/);

    const recent = textOf((await page("/admin/customers")).html);
    expect(recent).toContain("Recent access, by customer");
    expect(recent).toContain(email);
    expect(recent).toContain(saleEmail);

    const revoked = await post("/admin/customers/revoke", {
      entitlement: held?.id as string,
      reason: "chargeback by phone",
      email,
    });
    expect(revoked.status).toBe(303);
    expect(await entitlementsOf(h, email)).toMatchObject([
      { status: "revoked", revokedReason: "chargeback by phone" },
    ]);
  });

  it("finds a customer's orders and resends a receipt from there", async () => {
    const found = await page(
      `/admin/customers?email=${encodeURIComponent(saleEmail.toUpperCase())}`,
    );
    const text = textOf(found.html);
    expect(text).toContain(`Orders by ${saleEmail}`);
    expect(found.html).toContain(`/admin/orders/${sale.orderId}`);
    expect(text).toContain(`Access held by ${saleEmail}`);
    h.clock.advance(61_000);
    const sent = await post("/admin/customers/resend-receipt", {
      order: sale.orderId,
      email: saleEmail,
    });
    expect(sent.status).toBe(303);
    expect(sent.headers.get("location")).toBe(
      `/admin/customers?email=${encodeURIComponent(saleEmail)}&done=receipt-sent`,
    );
    expect(await mailsTo(h, saleEmail)).toHaveLength(3);
  });

  it("creates a download link shown once, lists it with its state, and revokes it", async () => {
    // Receipts (each with a link of its own) leave after the answer: let the earlier purchases'
    // go out before counting the links.
    await waitFor(
      async () =>
        (await h.deps.db.selectFrom("receipt_queue").select("order_id").execute()).length === 0,
      "the receipts to be sent",
    );
    const before = (await page("/admin/tokens")).html.match(/<tr>/g)?.length ?? 0;
    const badExpiry = await post("/admin/tokens", {
      email: saleEmail,
      product: product.slug,
      file: "",
      expiresIn: "forever",
      maxUses: "",
    });
    expect(badExpiry.status).toBe(400);
    const badPage = await badExpiry.text();
    expect(textOf(badPage)).toContain("expiresIn must be a duration like 90m, 24h or 7d");
    expect(badPage).toContain('value="forever"');
    const stranger = await post("/admin/tokens", {
      email: "stranger@example.com",
      product: product.slug,
      expiresIn: "24h",
    });
    expect(stranger.status).toBe(400);
    expect(textOf(await stranger.text())).toContain(
      "stranger@example.com has no active access to Sales Kit",
    );
    const badUses = await post("/admin/tokens", {
      email: saleEmail,
      product: product.slug,
      expiresIn: "24h",
      maxUses: "0",
    });
    expect(badUses.status).toBe(400);
    const otherProduct = await h.productOnSale({ name: "Other Kit" });
    const otherFile = await h.upload(otherProduct.slug, "other.zip", "other");
    const wrongFile = await post("/admin/tokens", {
      email: saleEmail,
      product: product.slug,
      file: otherFile.id,
      expiresIn: "24h",
    });
    expect(wrongFile.status).toBe(400);
    expect(textOf(await wrongFile.text())).toContain("that file is not one of Sales Kit's");
    expect((await page("/admin/tokens")).html.match(/<tr>/g)?.length ?? 0).toBe(before);

    const created = await post("/admin/tokens", {
      email: saleEmail,
      product: product.slug,
      file: "",
      expiresIn: "7d",
      maxUses: "1",
    });
    expect(created.status).toBe(200);
    expect(created.headers.get("referrer-policy")).toBe("no-referrer");
    const body = await created.text();
    const url = /id="created-url"[^>]*value="(http:\/\/shop\.test\/d\/tgd_[\w-]+)"/.exec(body)?.[1];
    expect(url, body).toBeDefined();
    expect(textOf(body)).toContain("it is shown only this once");
    expect(textOf(body)).toMatch(/0 of 1 active/);

    const files = await h.request(url as string, { headers: html });
    const download = /href="(\/d\/tgd_[\w-]+\/[\w-]+)"/.exec(await files.text())?.[1];
    expect(await (await h.request(download as string)).text()).toBe("sales kit bytes");
    expect(textOf((await page("/admin/tokens")).html)).toMatch(/1 of 1 used up/);

    const second = await post("/admin/tokens", {
      email: saleEmail,
      product: product.slug,
      expiresIn: "24h",
    });
    const secondUrl = /value="(http:\/\/shop\.test\/d\/tgd_[\w-]+)"/.exec(await second.text())?.[1];
    const list = (await page(`/admin/tokens?email=${encodeURIComponent(saleEmail)}`)).html;
    const revokeAction = /action="(\/admin\/tokens\/tok_[\w-]+\/revoke)"/.exec(list)?.[1];
    const revoked = await post(revokeAction as string, { email: saleEmail });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get("location")).toBe(
      `/admin/tokens?email=${encodeURIComponent(saleEmail)}&done=revoked`,
    );
    expect(textOf((await page(revoked.headers.get("location") as string)).html)).toMatch(
      /Link revoked.*0 \(no limit\) revoked/,
    );
    const gone = await h.request(secondUrl as string, { headers: html });
    expect(gone.status).toBe(410);

    const short = await post("/admin/tokens", {
      email: saleEmail,
      product: product.slug,
      expiresIn: "1m",
    });
    expect(short.status).toBe(200);
    h.clock.advance(61_000);
    expect(textOf((await page("/admin/tokens")).html)).toMatch(/0 \(no limit\) expired/);
  });

  it("logs downloads with who, how and from where, filtered by email", async () => {
    const email = uniqueEmail("fan");
    const { product: owned, asset } = await h.ownedProduct(email, "fan bytes");
    const fan = await h.signIn(email);
    expect(
      await (await h.request(`/download/${owned.slug}/${asset.id}`, { cookie: fan })).text(),
    ).toBe("fan bytes");
    const all = textOf((await page("/admin/downloads")).html);
    expect(all).toContain(`${owned.name} kit.zip ${email} library`);
    expect(all).toContain(`${product.name} sales-kit.zip ${saleEmail} download link`);
    const filtered = textOf(
      (await page(`/admin/downloads?email=${encodeURIComponent(email)}`)).html,
    );
    expect(filtered).toContain(email);
    expect(filtered).not.toContain(saleEmail);
    expect((await page("/admin/downloads?limit=0")).status).toBe(400);
  });

  it("lists webhook events, filters the failed ones and replays with the outcome shown", async () => {
    const failing = {
      id: `evt_fail_${Date.now()}`,
      object: "event",
      type: "charge.dispute.created",
      livemode: false,
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: "dp_missing",
          object: "dispute",
          charge: "ch_missing",
          status: "needs_response",
        },
      },
    };
    const body = JSON.stringify(failing);
    const delivered = await h.request("/webhooks/stripe", {
      method: "POST",
      headers: { "stripe-signature": signature(body), "content-type": "application/json" },
      body,
    });
    expect(delivered.status).toBe(500);

    const failed = await page("/admin/webhooks?status=failed");
    expect(failed.html).toContain(failing.id);
    expect(failed.html).not.toContain("checkout.session.completed");
    const all = await page("/admin/webhooks");
    expect(all.html).toContain("checkout.session.completed");

    const replay = await post(`/admin/webhooks/${failing.id}/replay`, {});
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toBe(
      `/admin/webhooks?event=${failing.id}&done=replay-failed`,
    );
    const after = textOf((await page(replay.headers.get("location") as string)).html);
    expect(after).toContain("Replay failed: the event was not applied.");
    expect(after).toMatch(new RegExp(`${failing.id} is now failed ?: .*ch_missing`));

    /** The id of the checkout.session.completed event listed on an order's page. */
    const eventOf = async (orderId: string) => {
      const body = (await page(`/admin/orders/${orderId}`)).html;
      return [
        ...body.matchAll(
          /href="\/admin\/webhooks#(evt_\w+)">(?:(?!<\/a>).)*<\/a><\/td><td[^>]*><code>([\w.]+)</g,
        ),
      ].find((m) => m[2] === "checkout.session.completed")?.[1];
    };

    const paidEvent = await eventOf(sale.orderId);
    const good = await post(`/admin/webhooks/${paidEvent}/replay`, {});
    expect(good.headers.get("location")).toBe(
      `/admin/webhooks?event=${paidEvent}&done=replayed-processed`,
    );
    expect(textOf((await page(good.headers.get("location") as string)).html)).toMatch(
      /Replayed: the event was applied\..* is now processed ?: already paid/,
    );

    // A late copy of a refunded order's payment grants nothing: transitions only go forward.
    const refundedEvent = await eventOf(refundedOrderId);
    const late = await post(`/admin/webhooks/${refundedEvent}/replay`, {});
    expect(late.headers.get("location")).toBe(
      `/admin/webhooks?event=${refundedEvent}&done=replayed-ignored`,
    );
    expect(textOf((await page(late.headers.get("location") as string)).html)).toMatch(
      /is now ignored ?: order is refunded; not granting/,
    );
    expect(await orderStatus(h, refundedOrderId)).toBe("refunded");
    expect((await post("/admin/webhooks/evt_nothing/replay", {})).status).toBe(404);
  });

  it("shows doctor's checks and the non-secret settings, never a secret", async () => {
    const { html: body } = await page("/admin/settings");
    const text = textOf(body);
    expect(text).toMatch(/ok database .*reachable and up to date/);
    expect(text).toMatch(/ok storage folder .* is reachable and writable/);
    // Offline with SQLite that is a warning; a Postgres shop is taken for production.
    expect(text).toMatch(/(check|problem) payments STRIPE_SECRET_KEY is not set/);
    expect(text).toContain("Public URL http://shop.test");
    expect(text).toContain(`Database ${dialect === "sqlite" ? "SQLite" : "Postgres"}`);
    expect(text).toContain("Admin emails owner@shop.test");
    expect(text).toContain("A full refund ends access");
    for (const secret of ["s".repeat(40), h.config.adminToken, h.config.stripe.webhookSecret])
      expect(body).not.toContain(secret as string);
  });
});

/** Stripe refusing the refund (here: the money was already returned in Stripe's dashboard). */
describe.each(dialects)("a refund Stripe refuses, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: "manual" });
  });
  afterAll(() => h.close());

  it("says why in plain words and leaves the order paid", async () => {
    const owner = await h.signIn("owner@shop.test");
    const product = await h.productOnSale({ name: "Refused Kit" });
    const bought = await buy(h, product.slug, uniqueEmail("refused"));
    const url = new URL(h.runtime.localStripeUrl as string);
    const stripe = new Stripe("sk_test_local", {
      host: url.hostname,
      port: url.port,
      protocol: "http",
    });
    const session = await stripe.checkout.sessions.retrieve(bought.sessionId);
    await stripe.refunds.create({ payment_intent: session.payment_intent as string });

    const refused = await h.request(`/admin/orders/${bought.orderId}/refund`, {
      ...form({}),
      cookie: owner,
    });
    expect(refused.status).toBe(400);
    const text = textOf(await refused.text());
    expect(text).toMatch(/Stripe refused the refund: .*already been refunded/);
    expect(text).toContain("Refund $19.00");
    expect(await orderStatus(h, bought.orderId)).toBe("paid");
  });
});
