import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantAccess, revokeEntitlement } from "../../src/core/access/entitlements.ts";
import { withTransaction } from "../../src/core/context.ts";
import { orderReference } from "../../src/core/orders/reference.ts";
import * as z from "../../src/core/zod.ts";
import { responses } from "../../src/http/openapi/responses.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, signature } from "../support/stripe.ts";

interface Explanation {
  email: string;
  product: { slug: string; name: string };
  hasAccess: boolean;
  sentence: string;
  history: {
    at: string;
    change: string;
    by: string;
    reason: string | null;
    entitlementId: string;
    source: string;
  }[];
}

/** "4 Dec 2026": how the sentence writes a day (the shop's zone is UTC here). */
const day = (ms: number) => {
  const d = new Date(ms);
  const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  return `${d.getUTCDate()} ${month} ${d.getUTCFullYear()}`;
};

/** The visible text of a page, without tags. */
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

/**
 * The access history and its answer to "why": each change is recorded with who made it (the
 * Stripe event, the seller) and why, in the change's own transaction, and the sentence says
 * what a download would get. The local Stripe runs; the test delivers its events itself.
 */
describe.each(dialects)("access history on %s", (dialect) => {
  let h: Harness;
  let stripe: Stripe;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: "manual" });
    const url = new URL(h.runtime.localStripeUrl as string);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
  });
  afterAll(() => h.close());

  const why = async (email: string, product: string) => {
    const res = await h.admin(
      `/api/admin/access-history?email=${encodeURIComponent(email)}&product=${product}`,
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as Explanation;
    // As the API reference describes it.
    expect(z.safeParse(responses.AccessHistory, body).success).toBe(true);
    return body;
  };
  const changes = (e: Explanation) => e.history.map((x) => [x.change, x.by, x.reason]);
  const historyRows = async () =>
    Number(
      (
        await h.deps.db
          .selectFrom("access_events")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Posts the newest event of this type about `about` (an id in it), signed; its id. */
  async function deliver(type: string, about: string): Promise<string> {
    const event = (
      await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })
    ).find((e) => e.type === type && JSON.stringify(e.data.object).includes(about));
    if (!event) throw new Error(`no ${type} event about ${about}`);
    const body = JSON.stringify(event);
    const res = await h.request("/webhooks/stripe", {
      method: "POST",
      headers: {
        "content-type": "application/json", // Signed at the shop's time, which a test may have moved on.
        "stripe-signature": signature(body, { timestamp: Math.floor(h.clock.time / 1000) }),
      },
      body,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return event.id;
  }
  const trigger = async (path: string, body: Record<string, unknown> = {}) => {
    const res = await fetch(`${h.runtime.localStripeUrl}/_local${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk_test_local" },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { object: { id: string } };
  };

  /** Pays a checkout on the local Stripe's page and delivers its checkout.session.completed. */
  async function buy(slug: string, email: string) {
    const res = await h.request(`/checkout/${slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    expect(res.status).toBe(201);
    const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email })).status).toBe(303);
    const paidBy = await deliver("checkout.session.completed", started.sessionId);
    const session = await stripe.checkout.sessions.retrieve(started.sessionId);
    return { ...started, paidBy, paymentIntent: String(session.payment_intent) };
  }

  /** What a download by this buyer gets, signed in with the email: the access rule's answer. */
  async function download(email: string, slug: string, assetId: string) {
    const cookie = await h.signIn(email);
    return (await h.request(`/download/${slug}/${assetId}`, { cookie })).status;
  }

  it("a purchase is granted by its Stripe event; a full refund revokes it, saying why; a redelivery adds nothing", async () => {
    const product = await h.productOnSale({ name: "Icon Kit" });
    const asset = await h.upload(product.slug, "icons.zip", "icons");
    const email = uniqueEmail("ana");
    const bought = await buy(product.slug, email);

    const paid = await why(email, product.slug);
    expect(paid.hasAccess).toBe(true);
    expect(paid.email).toBe(email);
    expect(paid.product).toEqual({ slug: product.slug, name: "Icon Kit" });
    expect(changes(paid)).toEqual([["granted", `stripe:${bought.paidBy}`, "payment confirmed"]]);
    expect(paid.history[0]?.source).toBe("purchase");
    expect(paid.sentence).toBe(
      `${email} has access to Icon Kit: bought on ${day(Date.parse(paid.history[0]?.at ?? ""))} (order ${orderReference(bought.orderId)}).`,
    );
    expect(await download(email, product.slug, asset.id)).toBeLessThan(400);

    await stripe.refunds.create({ payment_intent: bought.paymentIntent });
    const refundedBy = await deliver("charge.refunded", bought.paymentIntent);
    const refunded = await why(email, product.slug);
    expect(refunded.hasAccess).toBe(false);
    expect(changes(refunded)).toEqual([
      ["revoked", `stripe:${refundedBy}`, "refunded"],
      ["granted", `stripe:${bought.paidBy}`, "payment confirmed"],
    ]);
    expect(refunded.sentence).toBe(
      `${email} has no access to Icon Kit: refunded on ${day(Date.parse(refunded.history[0]?.at ?? ""))} (Stripe event ${refundedBy}).`,
    );
    expect(await download(email, product.slug, asset.id)).toBe(403);

    // The same events again, delivered or replayed by the seller: nothing changes, nothing is added.
    const before = await historyRows();
    await deliver("charge.refunded", bought.paymentIntent);
    const replay = await h.admin(`/api/admin/webhook-events/${bought.paidBy}/replay`, {
      method: "POST",
    });
    expect(replay.status).toBe(200);
    expect(await historyRows()).toBe(before);
    expect(changes(await why(email, product.slug))).toEqual(changes(refunded));
  });

  it("a dispute suspends access and winning it restores it, each by its Stripe event", async () => {
    const product = await h.productOnSale({ name: "Font Pack" });
    const asset = await h.upload(product.slug, "font.zip", "font");
    const email = uniqueEmail("disputer");
    const bought = await buy(product.slug, email);

    const dispute = await trigger("/disputes", { id: bought.sessionId });
    const openedBy = await deliver("charge.dispute.created", dispute.object.id);
    const opened = await why(email, product.slug);
    expect(opened.hasAccess).toBe(false);
    expect(changes(opened)).toEqual([
      ["suspended", `stripe:${openedBy}`, "payment disputed"],
      ["granted", `stripe:${bought.paidBy}`, "payment confirmed"],
    ]);
    expect(opened.sentence).toBe(
      `${email} has no access to Font Pack: suspended on ${day(Date.parse(opened.history[0]?.at ?? ""))} while a payment dispute is open (Stripe event ${openedBy}).`,
    );
    expect(await download(email, product.slug, asset.id)).toBe(403);

    await trigger(`/disputes/${dispute.object.id}/close`, { outcome: "won" });
    const wonBy = await deliver("charge.dispute.closed", dispute.object.id);
    const won = await why(email, product.slug);
    expect(won.hasAccess).toBe(true);
    expect(changes(won)).toEqual([
      ["restored", `stripe:${wonBy}`, "dispute won"],
      ["suspended", `stripe:${openedBy}`, "payment disputed"],
      ["granted", `stripe:${bought.paidBy}`, "payment confirmed"],
    ]);
    const [restoredAt, , boughtAt] = won.history.map((x) => day(Date.parse(x.at)));
    expect(won.sentence).toBe(
      `${email} has access to Font Pack: bought on ${boughtAt} (order ${orderReference(bought.orderId)}), restored on ${restoredAt} after the payment dispute was won (Stripe event ${wonBy}).`,
    );
    expect(await download(email, product.slug, asset.id)).toBeLessThan(400);
  });

  it("the seller's revoke and grant through the admin API are the seller's, with the reason given", async () => {
    const product = await h.productOnSale({ name: "Brush Set" });
    const email = uniqueEmail("granted");
    const never = await why(email, product.slug);
    expect(never).toMatchObject({ hasAccess: false, history: [] });
    expect(never.sentence).toBe(`${email} never had access to Brush Set.`);

    const granted = await h.grant(email, product.slug);
    const given = await why(email, product.slug);
    expect(changes(given)).toEqual([["granted", "seller", "given without payment"]]);
    expect(given.history[0]).toMatchObject({ entitlementId: granted.id, source: "grant" });
    const givenOn = day(Date.parse(given.history[0]?.at ?? ""));
    expect(given.sentence).toBe(
      `${email} has access to Brush Set: given on ${givenOn} by the seller.`,
    );

    const revoke = await h.admin(`/api/admin/entitlements/${granted.id}/revoke`, {
      method: "POST",
      json: { reason: "shared publicly" },
    });
    expect(revoke.status).toBe(200);
    const revoked = await why(email, product.slug);
    expect(revoked.hasAccess).toBe(false);
    expect(changes(revoked)[0]).toEqual(["revoked", "seller", "shared publicly"]);
    expect(revoked.sentence).toBe(
      `${email} has no access to Brush Set: revoked on ${day(Date.parse(revoked.history[0]?.at ?? ""))} by the seller ("shared publicly").`,
    );
    // Revoking what is revoked already records nothing more.
    await h.admin(`/api/admin/entitlements/${granted.id}/revoke`, { method: "POST", json: {} });
    expect((await why(email, product.slug)).history).toHaveLength(2);

    await h.grant(email, product.slug);
    const again = await why(email, product.slug);
    expect(again.hasAccess).toBe(true);
    expect(changes(again)[0]).toEqual(["restored", "seller", "granted again"]);
    expect(again.sentence).toBe(
      `${email} has access to Brush Set: given on ${givenOn} by the seller, restored on ${day(Date.parse(again.history[0]?.at ?? ""))} by the seller.`,
    );
  });

  it("a change that rolls back leaves no history", async () => {
    const product = await h.productOnSale({ name: "Rolled Back" });
    const email = uniqueEmail("rollback");
    const before = await historyRows();
    const boom = new Error("the rest of the work failed");
    await expect(
      withTransaction(h.ctx, async (tx) => {
        await grantAccess({
          ctx: tx,
          input: {
            productId: product.id,
            owner: { email },
            source: "grant",
            sourceRef: `email:${email}`,
          },
        });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await historyRows()).toBe(before);
    expect((await why(email, product.slug)).sentence).toBe(
      `${email} never had access to Rolled Back.`,
    );

    const granted = await h.grant(email, product.slug);
    const kept = await historyRows();
    await expect(
      withTransaction(h.ctx, async (tx) => {
        await revokeEntitlement({ ctx: tx, input: { entitlementId: granted.id, reason: "oops" } });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await historyRows()).toBe(kept);
    const still = await why(email, product.slug);
    expect(still.hasAccess).toBe(true);
    expect(changes(still)).toEqual([["granted", "seller", "given without payment"]]);
  });

  it("a subscription whose paid period is over says access ended, with an expired entry at its end", async () => {
    const product = await h.productOnSale({
      name: "Monthly Brushes",
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "usd" },
    });
    const asset = await h.upload(product.slug, "brushes.zip", "brushes");
    const email = uniqueEmail("subscriber");
    const bought = await buy(product.slug, email);
    const active = await why(email, product.slug);
    expect(active.hasAccess).toBe(true);
    const [entitlement] = (
      await (await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`)).json()
    ).entitlements as { id: string; endsAt: string }[];
    const endsAt = Date.parse(entitlement?.endsAt ?? "");
    expect(active.sentence).toBe(
      `${email} has access to Monthly Brushes: subscribed on ${day(Date.parse(active.history[0]?.at ?? ""))} (order ${orderReference(bought.orderId)}); access until ${day(endsAt)}.`,
    );

    h.clock.advance(endsAt - h.clock.time + 60_000);
    const ended = await why(email, product.slug);
    expect(ended.hasAccess).toBe(false);
    expect(ended.history[0]).toMatchObject({
      at: new Date(endsAt).toISOString(),
      change: "expired",
      by: "system",
      reason: "the paid period ended",
    });
    expect(ended.sentence).toBe(
      `${email} has no access to Monthly Brushes: access ended on ${day(endsAt)}.`,
    );
    expect(await download(email, product.slug, asset.id)).toBe(403);
  });

  it("refuses a missing or malformed email or product (400) and an unknown product (404); only for the seller", async () => {
    const product = await h.productOnSale();
    const ask = (query: string) => h.admin(`/api/admin/access-history${query}`);
    const cases: [string, string, RegExp][] = [
      ["", "email", /email: must be an email address/],
      [`?product=${product.slug}`, "email", /email: must be an email address/],
      [`?email=not-an-email&product=${product.slug}`, "email", /email: must be an email address/],
      ["?email=a@example.com", "product", /product: is required/],
      ["?email=a@example.com&product=", "product", /product: is required/],
      ["?email=a@example.com&product=Not%20A%20Slug!", "product", /product: use 1-64 lowercase/],
    ];
    for (const [query, field, message] of cases) {
      const res = await ask(query);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as {
        code: string;
        message: string;
        fields: { field: string }[];
      };
      expect(body.code).toBe("invalid_input");
      expect(body.message, query).toMatch(message);
      expect(body.fields.map((f) => f.field)).toContain(field);
    }
    const unknown = await ask("?email=a@example.com&product=no-such-product");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).code).toBe("not_found");

    const url = `/api/admin/access-history?email=a@example.com&product=${product.slug}`;
    expect((await h.request(url)).status).toBe(401);
    const buyer = await h.signIn(uniqueEmail("nosy"));
    expect((await h.request(url, { cookie: buyer })).status).toBe(403);
  });

  it("the customer page shows each product's sentence and history", async () => {
    const product = await h.productOnSale({ name: "Page Kit" });
    const other = await h.productOnSale({ name: "Other Kit" });
    const email = uniqueEmail("paged");
    const bought = await buy(product.slug, email);
    const granted = await h.grant(email, other.slug);
    await h.admin(`/api/admin/entitlements/${granted.id}/revoke`, {
      method: "POST",
      json: { reason: "wrong customer" },
    });
    const owner = await h.signIn("owner@shop.test");
    const res = await h.request(`/admin/customers?email=${encodeURIComponent(email)}`, {
      headers: { accept: "text/html" },
      cookie: owner,
    });
    expect(res.status).toBe(200);
    const text = textOf(await res.text());
    const [kit, otherKit] = [await why(email, product.slug), await why(email, other.slug)];
    expect(text).toContain(`Why ${email} has access, or not`);
    expect(text).toContain(kit.sentence);
    expect(text).toContain(otherKit.sentence);
    expect(text).toMatch(/Page Kit has access/);
    expect(text).toMatch(/Other Kit no access/);
    expect(text).toMatch(
      new RegExp(`granted Stripe (?:event|checkout) ${bought.paidBy} payment confirmed`),
    );
    expect(text).toContain("revoked the seller wrong customer");
    expect(text).toContain("granted the seller given without payment");
  });
});
