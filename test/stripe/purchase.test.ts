import { createHash } from "node:crypto";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderReference } from "../../src/core/orders/reference.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const jsonPost = {
  method: "POST",
  headers: { accept: "application/json", origin: "http://shop.test" },
};

describe.each(dialects)("buying through the local Stripe on %s", (dialect) => {
  let h: Harness;
  let stripe: Stripe;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
    const url = new URL(h.runtime.localStripeUrl as string);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
  });
  afterAll(() => h.close());

  const order = async (orderId: string) =>
    (await (await h.admin("/api/admin/orders")).json()).orders.find(
      (o: { id: string }) => o.id === orderId,
    );
  const entitlementsOf = async (email: string) =>
    (await (await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`)).json())
      .entitlements;
  const sync = async (sessionId: string, cookie?: string) =>
    (
      await h.request("/api/checkout/sync", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sessionId }),
        ...(cookie ? { cookie } : {}),
      })
    ).json();

  async function startCheckout(slug: string, cookie?: string) {
    const res = await h.request(`/checkout/${slug}`, {
      ...jsonPost,
      ...(cookie ? { cookie } : {}),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { url: string; sessionId: string; orderId: string };
  }

  it("a guest pays with 4242, lands on the success page with the files, gets one receipt, and finds it after signing in", async () => {
    const product = await h.productOnSale({
      name: "Guest Kit",
      price: { amount: 2500, currency: "usd" },
    });
    const content = "guest kit bytes ".repeat(500);
    const asset = await h.upload(product.slug, "guest-kit.zip", content);
    const started = await startCheckout(product.slug);
    expect(started.url).toContain(`/checkout/${started.sessionId}`);
    expect((await order(started.orderId)).status).toBe("pending");

    const paid = await payOnHostedPage(started.url, { email: "Guest@Example.com" });
    expect(paid.status).toBe(303);
    const success = paid.headers.get("location") as string;
    expect(success).toBe(`http://shop.test/checkout/success?session_id=${started.sessionId}`);

    const page = await h.request(success, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await page.text();
    expect(html).toContain("Payment received. Your files are ready.");
    expect(html).toContain("guest-kit.zip");
    // The buyer's record of the order: its price and reference, and each file's checksum.
    expect(html).toContain(`$25.00 · order <code>${orderReference(started.orderId)}</code>`);

    const confirmation = await sync(started.sessionId);
    expect(confirmation).toMatchObject({
      status: "paid",
      email: "guest@example.com",
      product: { slug: product.slug },
    });
    const download = await h.request(confirmation.files[0].downloadUrl);
    expect(download.status).toBe(200);
    expect(
      createHash("sha256")
        .update(await download.text())
        .digest("hex"),
    ).toBe(asset.sha256);

    const receipts = await waitFor(async () => {
      const { messages } = await (await h.admin("/api/admin/outbox?to=guest@example.com")).json();
      return messages.length ? messages : null;
    }, "the receipt");
    await waitFor(async () => (await order(started.orderId)).status === "paid", "the webhook");
    await new Promise((r) => setTimeout(r, 300));
    const { messages } = await (await h.admin("/api/admin/outbox?to=guest@example.com")).json();
    expect(messages).toHaveLength(1);
    expect(receipts[0].subject).toBe("Your purchase: Guest Kit");
    expect(receipts[0].text).toContain("http://shop.test/library");
    expect(receipts[0].text).toMatch(/http:\/\/shop\.test\/d\/tgd_/);
    expect(receipts[0].text).not.toMatch(/\/files\//);

    const cookie = await h.signIn("guest@example.com");
    const library = await (await h.request("/api/library", { cookie })).json();
    expect(library.items.map((i: { product: { slug: string } }) => i.product.slug)).toContain(
      product.slug,
    );
    const libraryPage = await (
      await h.request("/library", { cookie, headers: { accept: "text/html" } })
    ).text();
    expect(libraryPage).toMatch(
      new RegExp(
        `Ordered <time datetime="[^"]+">\\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC</time> · \\$25\\.00 · order <code>${orderReference(started.orderId)}</code>`,
      ),
    );
    expect(libraryPage).toContain(`<code>${asset.sha256}</code>`);

    // A day later the session id alone no longer opens the purchase, nor names its buyer.
    h.clock.advance(25 * 3600_000);
    try {
      const late = await h.request(success, { headers: { accept: "text/html" } });
      expect(late.status).toBe(401);
      const text = await late.text();
      expect(text).toContain("Sign in with the email you used at checkout");
      expect(text.toLowerCase()).not.toContain("guest@example.com");
    } finally {
      h.clock.advance(-25 * 3600_000);
    }
  });

  it("a declined card shows a clear message and grants nothing", async () => {
    const product = await h.productOnSale();
    const started = await startCheckout(product.slug);
    const declined = await payOnHostedPage(started.url, {
      card: "4000 0000 0000 0002",
      email: "declined@example.com",
    });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain("Your card was declined.");
    expect((await sync(started.sessionId)).status).toBe("unpaid");
    expect(await entitlementsOf("declined@example.com")).toEqual([]);
    expect((await order(started.orderId)).status).toBe("pending");
  });

  it("an async payment is pending until it succeeds, then grants", async () => {
    const product = await h.productOnSale();
    const started = await startCheckout(product.slug);
    const res = await payOnHostedPage(started.url, {
      method: "bank_transfer",
      email: "async@example.com",
    });
    expect(res.status).toBe(303);
    const first = await sync(started.sessionId);
    if (first.status === "pending") expect(await entitlementsOf("async@example.com")).toEqual([]);
    // Waits on the seller's view, not by asking sync 20 times a second (a client doing that is
    // refused with 429 by the checkout limits); then the buyer's page sees it paid.
    await waitFor(
      async () => (await order(started.orderId)).status === "paid",
      "the async payment",
    );
    expect((await sync(started.sessionId)).status).toBe("paid");
    expect(await entitlementsOf("async@example.com")).toEqual([
      expect.objectContaining({ status: "active", source: "purchase" }),
    ]);
  });

  it("an async payment that fails marks the order failed and grants nothing", async () => {
    const product = await h.productOnSale();
    const started = await startCheckout(product.slug);
    await payOnHostedPage(started.url, {
      method: "bank_transfer_fail",
      email: "asyncfail@example.com",
    });
    await waitFor(
      async () => (await order(started.orderId)).status === "failed",
      "the failed payment",
    );
    expect((await sync(started.sessionId)).status).toBe("failed");
    expect(await entitlementsOf("asyncfail@example.com")).toEqual([]);
  });

  it("a refund takes access away at once, also from open token links", async () => {
    const { product, asset, sessionId, email } = await buy("refund@example.com");
    const link = await h.token({ email, product: product.slug });
    expect((await h.request(`/d/${link.token}/${asset.id}`)).status).toBe(200);
    const checkout = await stripe.checkout.sessions.retrieve(sessionId);
    await stripe.refunds.create({ payment_intent: checkout.payment_intent as string });
    await waitFor(async () => (await entitlementsOf(email))[0]?.status === "revoked", "the refund");
    const denied = await h.request(`/d/${link.token}/${asset.id}`);
    expect(denied.status).toBe(403);
    expect((await denied.json()).message).toMatch(/refunded/);
    const cookie = await h.signIn(email);
    expect((await h.request(`/download/${product.slug}/${asset.id}`, { cookie })).status).toBe(403);
    expect((await sync(sessionId)).status).toBe("refunded");
  });

  it("a signed-in buyer's order carries their user id; another signed-in user cannot use the session id", async () => {
    const product = await h.productOnSale();
    await h.upload(product.slug, "a.txt", "a");
    const cookie = await h.signIn("member@example.com");
    const started = await startCheckout(product.slug, cookie);
    const session = await stripe.checkout.sessions.retrieve(started.sessionId);
    expect(session.client_reference_id).toMatch(/^usr_/);
    expect(session.customer_email).toBe("member@example.com");
    expect(session.metadata).toEqual({ product: product.slug, order: started.orderId });
    await payOnHostedPage(started.url, { email: "member@example.com" });
    const mine = await sync(started.sessionId, cookie);
    expect(mine.status).toBe("paid");
    expect(mine.files[0].downloadUrl).toContain(`/download/${product.slug}/`);
    const stranger = await h.signIn("stranger@example.com");
    const theirs = await h.request("/api/checkout/sync", {
      method: "POST",
      cookie: stranger,
      headers: { "content-type": "application/json", origin: "http://shop.test" },
      body: JSON.stringify({ sessionId: started.sessionId }),
    });
    expect(theirs.status).toBe(403);
  });

  it("refuses checkout for unknown and unpublished products, and unknown session ids", async () => {
    expect((await h.request("/checkout/no-such-thing", jsonPost)).status).toBe(404);
    const hidden = await h.createProduct({ active: false });
    expect((await h.request(`/checkout/${hidden.slug}`, jsonPost)).status).toBe(404);
    expect((await sync("cs_test_doesnotexist0000000")).status).toBe(undefined);
    const res = await h.request("/api/checkout/sync", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionId: "cs_test_doesnotexist0000000" }),
    });
    expect(res.status).toBe(404);
  });

  const trigger = async (path: string, body: Record<string, unknown> = {}) => {
    const res = await fetch(`${h.runtime.localStripeUrl}/_local${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk_test_local" },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { object: { id: string } };
  };

  it("a dispute suspends access; won, it comes back; lost, it is revoked", async () => {
    const won = await buy("dispute-won@example.com");
    const dispute = await trigger("/disputes", { id: won.sessionId });
    await waitFor(
      async () => (await entitlementsOf(won.email))[0]?.status === "suspended",
      "suspension",
    );
    const cookie = await h.signIn(won.email);
    const paused = await h.request(`/download/${won.product.slug}/${won.asset.id}`, { cookie });
    expect(paused.status).toBe(403);
    expect((await paused.json()).message).toMatch(/dispute/);
    await trigger(`/disputes/${dispute.object.id}/close`, { outcome: "won" });
    await waitFor(
      async () => (await entitlementsOf(won.email))[0]?.status === "active",
      "restoration",
    );
    expect(
      (await h.request(`/download/${won.product.slug}/${won.asset.id}`, { cookie })).status,
    ).toBe(200);

    const lost = await buy("dispute-lost@example.com");
    const other = await trigger("/disputes", { id: lost.sessionId });
    await trigger(`/disputes/${other.object.id}/close`, { outcome: "lost" });
    await waitFor(
      async () => (await entitlementsOf(lost.email))[0]?.status === "revoked",
      "revocation",
    );

    // An inquiry closed without becoming a chargeback costs the seller nothing: access returns.
    const inquiry = await buy("dispute-inquiry@example.com");
    const asked = await trigger("/disputes", { id: inquiry.sessionId });
    await waitFor(
      async () => (await entitlementsOf(inquiry.email))[0]?.status === "suspended",
      "the inquiry's suspension",
    );
    await trigger(`/disputes/${asked.object.id}/close`, { outcome: "warning_closed" });
    await waitFor(
      async () => (await entitlementsOf(inquiry.email))[0]?.status === "active",
      "restoration after the inquiry",
    );
  });

  it("a subscription grants access until the period ends, renews, and ends when cancelled", async () => {
    const product = await h.productOnSale({
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "usd" },
    });
    const asset = await h.upload(product.slug, "monthly.zip", "issue 1");
    const started = await startCheckout(product.slug);
    const session = await stripe.checkout.sessions.retrieve(started.sessionId);
    expect(session.mode).toBe("subscription");
    await payOnHostedPage(started.url, { email: "subscriber@example.com" });
    const first = await waitFor(
      async () => (await entitlementsOf("subscriber@example.com"))[0],
      "the subscription",
    );
    expect(first).toMatchObject({ source: "subscription", status: "active" });
    const firstEnd = Date.parse(first.endsAt);
    expect(firstEnd).toBeGreaterThan(Date.now() + 27 * 86400_000);

    await trigger(`/subscriptions/${started.sessionId}/renew`);
    await waitFor(
      async () =>
        Date.parse((await entitlementsOf("subscriber@example.com"))[0].endsAt) >
        firstEnd + 20 * 86400_000,
      "the renewal",
    );

    const cookie = await h.signIn("subscriber@example.com");
    expect((await h.request(`/download/${product.slug}/${asset.id}`, { cookie })).status).toBe(200);
    await trigger(`/subscriptions/${started.sessionId}/cancel`);
    await waitFor(
      async () => (await entitlementsOf("subscriber@example.com"))[0].status === "revoked",
      "the cancellation",
    );
    const ended = await h.request(`/download/${product.slug}/${asset.id}`, { cookie });
    expect(ended.status).toBe(403);
  });

  it("refunding a subscription's payment revokes its access", async () => {
    const product = await h.productOnSale({
      kind: "subscription",
      interval: "month",
      price: { amount: 500, currency: "usd" },
    });
    const started = await startCheckout(product.slug);
    await payOnHostedPage(started.url, { email: "sub-refund@example.com" });
    await waitFor(
      async () => (await entitlementsOf("sub-refund@example.com"))[0],
      "the subscription",
    );
    const session = await stripe.checkout.sessions.retrieve(started.sessionId);
    const sub = await stripe.subscriptions.retrieve(session.subscription as string);
    const [payment] = (await stripe.invoicePayments.list({ invoice: sub.latest_invoice as string }))
      .data;
    const paymentIntent = payment?.payment.payment_intent as string;
    expect(paymentIntent).toMatch(/^pi_/);
    await stripe.refunds.create({ payment_intent: paymentIntent });
    await waitFor(
      async () => (await entitlementsOf("sub-refund@example.com"))[0].status === "revoked",
      "the refund",
    );
    expect((await entitlementsOf("sub-refund@example.com"))[0].revokedReason).toBe("refunded");
  });

  it("cancelling at the period end keeps access until then", async () => {
    const product = await h.productOnSale({
      kind: "subscription",
      interval: "year",
      price: { amount: 9900, currency: "usd" },
    });
    const started = await startCheckout(product.slug);
    await payOnHostedPage(started.url, { email: "leaving@example.com" });
    await waitFor(async () => (await entitlementsOf("leaving@example.com"))[0], "the subscription");
    await trigger(`/subscriptions/${started.sessionId}/cancel`, { at_period_end: true });
    const sub = await stripe.subscriptions.retrieve(
      (await stripe.checkout.sessions.retrieve(started.sessionId)).subscription as string,
    );
    const periodEnd = (sub.items.data[0]?.current_period_end ?? 0) * 1000;
    await waitFor(
      async () => Date.parse((await entitlementsOf("leaving@example.com"))[0].endsAt) === periodEnd,
      "the end date",
    );
    expect((await entitlementsOf("leaving@example.com"))[0].status).toBe("active");
  });

  it("an expired checkout abandons the order and the success page says so", async () => {
    const product = await h.productOnSale();
    const started = await startCheckout(product.slug);
    await trigger(`/sessions/${started.sessionId}/expire`);
    await waitFor(async () => (await order(started.orderId)).status === "abandoned", "the expiry");
    expect((await sync(started.sessionId)).status).toBe("expired");
    const page = await h.request(`/checkout/success?session_id=${started.sessionId}`, {
      headers: { accept: "text/html" },
    });
    expect(await page.text()).toContain("This checkout has expired");
  });

  async function buy(email: string) {
    const product = await h.productOnSale();
    const asset = await h.upload(product.slug, "kit.zip", "bytes");
    const started = await startCheckout(product.slug);
    await payOnHostedPage(started.url, { email });
    await waitFor(async () => (await order(started.orderId)).status === "paid", "payment");
    return { product, asset, sessionId: started.sessionId, orderId: started.orderId, email };
  }
});
