import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, signature, waitFor } from "../support/stripe.ts";

const DAY = 24 * 3600 * 1000;
const json = { accept: "application/json", origin: PUBLIC_URL };

type Grace = { pastDueDays: number; refundRevokes: boolean; disputeSuspends: boolean };

/**
 * The grace policy (decision 0020): what a failed subscription payment, a refund and a dispute
 * do to a buyer's access, per product. Stripe's side is the local Stripe, driven through the
 * official SDK and its triggers; its events reach the shop only when the test posts them,
 * signed, so it can deliver one twice.
 */
describe.each(dialects)("grace policy on %s", (dialect) => {
  let h: Harness;
  let stripe: Stripe;
  let localUrl: string;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: "manual" });
    localUrl = h.runtime.localStripeUrl as string;
    const url = new URL(localUrl);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
  });
  afterAll(() => h?.close());

  const post = (body: string) =>
    h.request("/webhooks/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature(body) },
      body,
    });
  /**
   * Delivers every event the local Stripe has sent since the last call, oldest first (or in the
   * order `reorder` gives, as Stripe may deliver them).
   */
  const delivered = new Set<string>();
  async function deliverNew(
    reorder: (events: Stripe.Event[]) => Stripe.Event[] = (events) => events,
  ): Promise<Stripe.Event[]> {
    const events = reorder(
      (await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 }))
        .filter((e) => !delivered.has(e.id))
        .reverse(),
    );
    for (const event of events) {
      delivered.add(event.id);
      const res = await post(JSON.stringify(event));
      expect(res.status, `${event.type} ${await res.clone().text()}`).toBe(200);
    }
    return events;
  }
  async function localTrigger<T = { id: string }>(
    path: string,
    body: Record<string, unknown> = {},
  ) {
    const res = await fetch(`${localUrl}/_local${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { events: string[]; object: T };
  }

  async function product(input: Record<string, unknown>) {
    const created = await h.productOnSale(input);
    return created.slug;
  }
  const productJson = async (slug: string) =>
    (await (await h.admin(`/api/admin/products/${slug}`)).json()) as { grace: Grace };
  const setGrace = (slug: string, grace: unknown) =>
    h.admin(`/api/admin/products/${slug}`, { method: "PATCH", json: { grace } });

  /** Buys on the local Stripe's page and delivers the events: the buyer has access. */
  async function buy(slug: string, email: string) {
    const res = await h.request(`/checkout/${slug}`, { method: "POST", headers: json });
    expect(res.status).toBe(201);
    const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email })).status).toBe(303);
    await deliverNew();
    expect(await canDownload(email, slug)).toBe(true);
    const session = await stripe.checkout.sessions.retrieve(started.sessionId);
    return { ...started, subscriptionId: session.subscription as string | null, session };
  }

  /** What the buyer gets now: a download link made for them works, or none can be made. */
  async function canDownload(email: string, slug: string): Promise<boolean> {
    const res = await h.admin("/api/admin/tokens", {
      method: "POST",
      json: { email, product: slug },
    });
    if (res.status !== 201) return false;
    const { url } = (await res.json()) as { url: string };
    return (await h.request(url)).status === 200;
  }
  const entitlementOf = async (email: string) => {
    const res = await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`);
    const [entitlement] = (await res.json()).entitlements as {
      status: string;
      endsAt: string | null;
    }[];
    if (!entitlement) throw new Error(`no entitlement for ${email}`);
    return entitlement;
  };
  const orderStatus = async (orderId: string) =>
    (
      await h.deps.db
        .selectFrom("orders")
        .select("status")
        .where("id", "=", orderId)
        .executeTakeFirstOrThrow()
    ).status;
  const mailsTo = async (email: string, subject: RegExp) =>
    (await readOutbox(h.deps.db, { to: email, limit: 50 })).filter((m) => subject.test(m.subject));
  const history = async (email: string) =>
    (
      await h.deps.db
        .selectFrom("access_events as a")
        .innerJoin("entitlements as e", "e.id", "a.entitlement_id")
        .select(["a.change", "a.by", "a.reason"])
        .where("e.email", "=", email)
        .orderBy("a.created_at")
        .execute()
    ).map((row) => ({ change: row.change, by: row.by, reason: row.reason }));

  /** Moves the shop's clock; returns it to now afterwards, so tests stay independent. */
  async function at<T>(later: number, check: () => Promise<T>): Promise<T> {
    h.clock.advance(later);
    try {
      return await check();
    } finally {
      h.clock.advance(-later);
    }
  }

  const subscription = { kind: "subscription", interval: "day" };

  it("a product's grace starts with today's behaviour, shows in its JSON and changes field by field", async () => {
    const slug = await product({});
    expect((await productJson(slug)).grace).toEqual({
      pastDueDays: 0,
      refundRevokes: true,
      disputeSuspends: true,
    });
    const res = await setGrace(slug, { pastDueDays: 7 });
    expect(res.status).toBe(200);
    expect((await res.json()).grace).toEqual({
      pastDueDays: 7,
      refundRevokes: true,
      disputeSuspends: true,
    });
    await setGrace(slug, { refundRevokes: false, disputeSuspends: false });
    expect((await productJson(slug)).grace).toEqual({
      pastDueDays: 7,
      refundRevokes: false,
      disputeSuspends: false,
    });
    // null hands refunds back to the shop's REFUND_REVOKES_ACCESS (true here).
    await setGrace(slug, { refundRevokes: null });
    expect((await productJson(slug)).grace.refundRevokes).toBe(true);
  });

  it("refuses bad grace input with a 400 that names the field, and changes nothing", async () => {
    const slug = await product({ grace: { pastDueDays: 3 } });
    const before = await productJson(slug);
    const cases: [unknown, RegExp][] = [
      [{ pastDueDays: -1 }, /pastDueDays.*negative/],
      [{ pastDueDays: 61 }, /pastDueDays.*60/],
      [{ pastDueDays: 1.5 }, /pastDueDays.*whole/],
      [{ pastDueDays: "7" }, /pastDueDays/],
      [{ refundRevokes: "no" }, /refundRevokes/],
      [{ disputeSuspends: 1 }, /disputeSuspends/],
      [{ graceDays: 3 }, /graceDays/],
      ["seven", /grace/],
    ];
    for (const [grace, message] of cases) {
      const res = await setGrace(slug, grace);
      expect(res.status, JSON.stringify(grace)).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_input");
      expect(body.message, JSON.stringify(grace)).toMatch(message);
    }
    expect(await productJson(slug)).toEqual(before);
    const created = await h.admin("/api/admin/products", {
      method: "POST",
      json: {
        slug: "bad-grace",
        name: "Bad",
        price: { amount: 100, currency: "usd" },
        grace: { pastDueDays: 61 },
      },
    });
    expect(created.status).toBe(400);
    expect((await h.admin("/api/admin/products/bad-grace")).status).toBe(404);
  });

  it("the product's page in /admin sets the policy, and a bad number is refused with the form kept", async () => {
    const slug = await product(subscription);
    const owner = await h.signIn("owner@shop.test");
    const html = { accept: "text/html" };
    const page = await h.request(`/admin/products/${slug}`, { headers: html, cookie: owner });
    const body = await page.text();
    expect(body).toContain("Grace policy");
    expect(body).toContain(`action="/admin/products/${slug}/grace"`);
    const form = (fields: Record<string, string>) =>
      h.request(`/admin/products/${slug}/grace`, {
        method: "POST",
        cookie: owner,
        headers: {
          ...html,
          "content-type": "application/x-www-form-urlencoded",
          origin: PUBLIC_URL,
        },
        body: new URLSearchParams(fields).toString(),
      });
    for (const days of ["61", "-1", "seven", ""]) {
      const bad = await form({ pastDueDays: days, refund: "keeps", dispute: "keeps" });
      expect(bad.status, days).toBe(400);
      const text = await bad.text();
      expect(text).toContain("use a whole number from 0 to 60");
      expect(text).toContain(`value="${days}"`);
    }
    expect((await productJson(slug)).grace).toEqual({
      pastDueDays: 0,
      refundRevokes: true,
      disputeSuspends: true,
    });
    const saved = await form({ pastDueDays: "14", refund: "keeps", dispute: "keeps" });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`/admin/products/${slug}?done=grace-saved`);
    expect((await productJson(slug)).grace).toEqual({
      pastDueDays: 14,
      refundRevokes: false,
      disputeSuspends: false,
    });
  });

  describe("a failed subscription payment", () => {
    it("without grace (the default): access ends with the period paid for, no mail, as before", async () => {
      const slug = await product(subscription);
      const email = "nograce@example.com";
      const { subscriptionId } = await buy(slug, email);
      const paidUntil = (await entitlementOf(email)).endsAt;

      const { events } = await localTrigger(`/subscriptions/${subscriptionId}/renew`, {
        fail: true,
      });
      expect(events).toEqual(["customer.subscription.updated", "invoice.payment_failed"]);
      await deliverNew();
      expect(await entitlementOf(email)).toMatchObject({ status: "active", endsAt: paidUntil });
      expect(await mailsTo(email, /Payment failed/)).toEqual([]);
      expect((await history(email)).map((e) => e.change)).not.toContain("grace_started");
      expect(await at(3 * DAY, () => canDownload(email, slug))).toBe(false);
    });

    it("with 7 days: access lasts 7 days from the failure, one mail however often it comes, then ends", async () => {
      const slug = await product({ ...subscription, grace: { pastDueDays: 7 } });
      const email = "grace@example.com";
      const { subscriptionId } = await buy(slug, email);
      const paidUntil = Date.parse((await entitlementOf(email)).endsAt as string);

      await localTrigger(`/subscriptions/${subscriptionId}/renew`, { fail: true });
      const [failed] = (await deliverNew()).filter((e) => e.type === "invoice.payment_failed");
      if (!failed) throw new Error("no invoice.payment_failed");
      const invoice = failed.data.object as Stripe.Invoice;
      const graceUntil = failed.created * 1000 + 7 * DAY;
      expect(graceUntil).toBeGreaterThan(paidUntil);
      expect(await entitlementOf(email)).toMatchObject({
        status: "active",
        endsAt: new Date(graceUntil).toISOString(),
      });

      // The same event again, and Stripe's next try of the same invoice: nothing more happens.
      expect((await post(JSON.stringify(failed))).status).toBe(200);
      const retry = {
        ...failed,
        id: `${failed.id}_retry`,
        created: failed.created + 3600,
        data: { object: { ...invoice, attempt_count: 2 } },
      };
      expect((await post(JSON.stringify(retry))).status).toBe(200);
      expect(await entitlementOf(email)).toMatchObject({
        endsAt: new Date(graceUntil).toISOString(),
      });

      const mails = await mailsTo(email, /Payment failed/);
      expect(mails).toHaveLength(1);
      expect(mails[0]?.text).toContain(invoice.hosted_invoice_url as string);
      expect(mails[0]?.text).toMatch(/You keep your access until \d{4}-\d\d-\d\d/);
      const graceEvents = (await history(email)).filter((e) => e.change === "grace_started");
      expect(graceEvents).toEqual([
        {
          change: "grace_started",
          by: `stripe:${failed.id}`,
          reason: expect.stringMatching(
            new RegExp(`invoice ${invoice.id} failed: access kept until .*7-day past-due grace`),
          ),
        },
      ]);

      // Past the period paid for (which ended a day later), within the grace: still there.
      expect(await at(3 * DAY, () => canDownload(email, slug))).toBe(true);
      // Past the grace, still unpaid: gone.
      expect(await at(8 * DAY, () => canDownload(email, slug))).toBe(false);

      // A later cancellation by Stripe revokes it, as before.
      await stripe.subscriptions.cancel(subscriptionId as string);
      await deliverNew();
      expect((await entitlementOf(email)).status).toBe("revoked");
      expect(await mailsTo(email, /Payment failed/)).toHaveLength(1);
    });

    it("paid after all: access continues as a renewal, to the new period's end", async () => {
      const slug = await product({ ...subscription, grace: { pastDueDays: 30 } });
      const email = "paidlater@example.com";
      const { subscriptionId } = await buy(slug, email);
      const renewal = await localTrigger<{ invoice: { id: string } }>(
        `/subscriptions/${subscriptionId}/renew`,
        { fail: true },
      );
      const failedInvoice = renewal.object.invoice;
      await deliverNew();
      expect(Date.parse((await entitlementOf(email)).endsAt as string)).toBeGreaterThan(
        Date.now() + 29 * DAY,
      );

      const paid = await localTrigger(`/invoices/${failedInvoice.id}/pay`);
      expect(paid.events).toEqual([
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
      ]);
      await deliverNew();
      const sub = await stripe.subscriptions.retrieve(subscriptionId as string);
      const periodEnd = (sub.items.data[0]?.current_period_end ?? 0) * 1000;
      expect(await entitlementOf(email)).toMatchObject({
        status: "active",
        endsAt: new Date(periodEnd + DAY).toISOString(),
      });
      expect(await at(periodEnd + DAY / 2 - Date.now(), () => canDownload(email, slug))).toBe(true);
      expect(await mailsTo(email, /Payment failed/)).toHaveLength(1);
    });

    it("a failed try's event that arrives after the invoice was paid starts no grace and mails nobody", async () => {
      const slug = await product({ ...subscription, grace: { pastDueDays: 30 } });
      const email = "latefailure@example.com";
      const { subscriptionId } = await buy(slug, email);
      const renewal = await localTrigger<{ invoice: { id: string } }>(
        `/subscriptions/${subscriptionId}/renew`,
        { fail: true },
      );
      await localTrigger(`/invoices/${renewal.object.invoice.id}/pay`);
      // Stripe does not promise order: the failure comes last.
      const lateFirst = (events: Stripe.Event[]) => [
        ...events.filter((e) => e.type !== "invoice.payment_failed"),
        ...events.filter((e) => e.type === "invoice.payment_failed"),
      ];
      expect((await deliverNew(lateFirst)).at(-1)?.type).toBe("invoice.payment_failed");

      const sub = await stripe.subscriptions.retrieve(subscriptionId as string);
      const periodEnd = (sub.items.data[0]?.current_period_end ?? 0) * 1000;
      expect(await entitlementOf(email)).toMatchObject({
        status: "active",
        endsAt: new Date(periodEnd + DAY).toISOString(),
      });
      expect(await mailsTo(email, /Payment failed/)).toEqual([]);
      expect((await history(email)).map((e) => e.change)).not.toContain("grace_started");
    });
  });

  describe("refunds", () => {
    it("by default a full refund revokes access and the notice says the links stopped", async () => {
      const slug = await product({});
      const email = "refund-default@example.com";
      const { orderId, session } = await buy(slug, email);
      await stripe.refunds.create({ payment_intent: session.payment_intent as string });
      await deliverNew();
      expect(await orderStatus(orderId)).toBe("refunded");
      expect(await canDownload(email, slug)).toBe(false);
      const [notice] = await waitFor(async () => {
        const found = await mailsTo(email, /^Refunded/);
        return found.length ? found : null;
      }, "the refund notice");
      expect(notice?.text).toContain("no longer work");
    });

    it("with refundRevokes=false the order is refunded, access stays, and the notice says so", async () => {
      const slug = await product({ grace: { refundRevokes: false } });
      const email = "refund-keep@example.com";
      const { orderId, session } = await buy(slug, email);
      await stripe.refunds.create({ payment_intent: session.payment_intent as string });
      await deliverNew();
      expect(await orderStatus(orderId)).toBe("refunded");
      expect(await entitlementOf(email)).toMatchObject({ status: "active" });
      expect(await canDownload(email, slug)).toBe(true);
      expect((await history(email)).map((e) => e.change)).not.toContain("revoked");
      const [notice] = await waitFor(async () => {
        const found = await mailsTo(email, /^Refunded/);
        return found.length ? found : null;
      }, "the refund notice");
      expect(notice?.text).toContain("You keep your files");
      expect(notice?.text).not.toContain("no longer work");
    });
  });

  describe("disputes", () => {
    it("by default an opened dispute suspends access", async () => {
      const slug = await product({});
      const email = "dispute-default@example.com";
      const { orderId, sessionId } = await buy(slug, email);
      await localTrigger("/disputes", { id: sessionId });
      await deliverNew();
      expect(await orderStatus(orderId)).toBe("disputed");
      expect((await entitlementOf(email)).status).toBe("suspended");
      expect(await canDownload(email, slug)).toBe(false);
    });

    it("with disputeSuspends=false access stays while the dispute is open; a lost one still revokes", async () => {
      const slug = await product({ grace: { disputeSuspends: false } });
      const email = "dispute-keep@example.com";
      const { orderId, sessionId } = await buy(slug, email);
      const { object: dispute } = await localTrigger("/disputes", { id: sessionId });
      await deliverNew();
      expect(await orderStatus(orderId)).toBe("disputed");
      expect((await entitlementOf(email)).status).toBe("active");
      expect(await canDownload(email, slug)).toBe(true);

      await localTrigger(`/disputes/${dispute.id}/close`, { outcome: "lost" });
      await deliverNew();
      expect((await entitlementOf(email)).status).toBe("revoked");
      expect(await canDownload(email, slug)).toBe(false);
    });
  });
});
