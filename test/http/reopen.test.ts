import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { orderReference } from "../../src/core/orders/reference.ts";
import * as z from "../../src/core/zod.ts";
import { responses } from "../../src/http/openapi/responses.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const html = { accept: "text/html" };
const DAY = 86_400_000;
const HOUR = 3_600_000;
const LINK = /http:\/\/shop\.test\/d\/tgd_[\w-]{43}/;
let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

describe.each(dialects)("re-opening an order whose access ended, on %s", (dialect) => {
  let h: Harness;
  let owner: string;
  let monthly: { slug: string; name: string };
  let monthlyFile: { id: string };
  let once: { slug: string; name: string };

  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
    owner = await h.signIn("owner@shop.test");
    monthly = await h.createProduct({
      name: "Monthly Kit",
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "usd" },
    });
    monthlyFile = await h.upload(monthly.slug, "monthly.zip", "monthly bytes");
    once = await h.productOnSale({ name: "Once Kit", price: { amount: 1500, currency: "usd" } });
  });
  afterAll(() => h.close());

  const mailsTo = (email: string) => readOutbox(h.deps.db, { to: email, limit: 100 });

  /** Buys as a guest through the local Stripe; the receipt has been mailed when it returns. */
  async function buy(slug: string, email: string) {
    const res = await h.request(`/checkout/${slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    expect(res.status).toBe(201);
    const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email })).status).toBe(303);
    await waitFor(async () => (await mailsTo(email)).length > 0, "the receipt");
    return started;
  }

  const entitlementsOf = (email: string) =>
    h.deps.db.selectFrom("entitlements").selectAll().where("email", "=", email).execute();

  async function historyOf(email: string, slug: string) {
    const res = await h.admin(
      `/api/admin/access-history?email=${encodeURIComponent(email)}&product=${slug}`,
    );
    expect(res.status).toBe(200);
    return (
      (await res.json()) as {
        history: { at: string; change: string; by: string; reason: string }[];
      }
    ).history;
  }

  /**
   * Everything a refused re-open must leave as it was, once what the last webhook set going
   * after its answer (its mail) has settled: two reads 100 ms apart agree.
   */
  async function snapshot(email: string, slug: string) {
    let last = await snapshotNow(email, slug);
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const next = await snapshotNow(email, slug);
      if (JSON.stringify(next) === JSON.stringify(last)) return next;
      last = next;
    }
  }
  async function snapshotNow(email: string, slug: string) {
    return {
      entitlements: await entitlementsOf(email),
      history: await historyOf(email, slug),
      mails: (await mailsTo(email)).length,
      links: Number(
        (
          await h.deps.db
            .selectFrom("delivery_tokens")
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    };
  }

  const reopen = (order: string, body: unknown = { for: "7d" }) =>
    h.admin(`/api/admin/orders/${encodeURIComponent(order)}/reopen`, {
      method: "POST",
      json: body,
    });

  async function localStripe(path: string, body: Record<string, unknown>) {
    const res = await fetch(`${h.runtime.localStripeUrl}/_local${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { object: { id: string } };
  }

  /** A subscription the buyer cancelled: its access ended now (revoked, "subscription ended"). */
  async function endedSubscription(email: string) {
    const started = await buy(monthly.slug, email);
    await localStripe(`/subscriptions/${started.sessionId}/cancel`, {});
    await waitFor(
      async () => (await entitlementsOf(email))[0]?.status === "revoked",
      "the cancellation to end access",
    );
    return started;
  }

  async function libraryDownload(cookie: string) {
    const res = await h.request(`/download/${monthly.slug}/${monthlyFile.id}`, { cookie });
    await res.arrayBuffer();
    return res.status;
  }

  it("refuses an order whose access has not ended, and an unknown one, changing nothing", async () => {
    const email = uniqueEmail("active");
    const started = await buy(once.slug, email);
    const before = await snapshot(email, once.slug);
    const res = await reopen(started.orderId);
    expect(res.status).toBe(409);
    expect((await res.json()).message).toMatch(
      /^This order's access has not ended: resend the receipt/,
    );
    for (const unknown of ["ord_nosuchorder000000000", "ZZZZZ-ZZZZZ", "not a reference"]) {
      const missing = await reopen(unknown);
      expect(missing.status, unknown).toBe(404);
      expect((await missing.json()).message).toBe("There is no such order.");
    }
    const anonymous = await h.request(`/api/admin/orders/${started.orderId}/reopen`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ for: "7d" }),
    });
    expect(anonymous.status).toBe(401);
    expect(await snapshot(email, once.slug)).toEqual(before);
  });

  it("refuses a refunded order and one that lost a dispute: grant access instead", async () => {
    const refundedEmail = uniqueEmail("refunded");
    const refunded = await buy(once.slug, refundedEmail);
    await localStripe("/refunds", { id: refunded.sessionId });
    await waitFor(
      async () => (await entitlementsOf(refundedEmail))[0]?.revoked_reason === "refunded",
      "the refund",
    );
    const beforeRefund = await snapshot(refundedEmail, once.slug);
    const refusedRefund = await reopen(refunded.orderId);
    expect(refusedRefund.status).toBe(409);
    expect((await refusedRefund.json()).message).toBe(
      `This order was refunded; grant access instead: on the Customers page, or with \`tollgate grant ${refundedEmail} ${once.slug}\`.`,
    );
    expect(await snapshot(refundedEmail, once.slug)).toEqual(beforeRefund);

    const disputedEmail = uniqueEmail("disputed");
    const disputed = await buy(once.slug, disputedEmail);
    const dispute = await localStripe("/disputes", { id: disputed.sessionId });
    await waitFor(
      async () => (await entitlementsOf(disputedEmail))[0]?.status === "suspended",
      "the dispute",
    );
    const open = await reopen(disputed.orderId);
    expect(open.status).toBe(409);
    expect((await open.json()).message).toMatch(/^A payment dispute is open on this order/);
    await localStripe(`/disputes/${dispute.object.id}/close`, { outcome: "lost" });
    await waitFor(
      async () => (await entitlementsOf(disputedEmail))[0]?.revoked_reason === "dispute lost",
      "the lost dispute",
    );
    const beforeLost = await snapshot(disputedEmail, once.slug);
    const lost = await reopen(orderReference(disputed.orderId));
    expect(lost.status).toBe(409);
    expect((await lost.json()).message).toMatch(
      /^This order lost a payment dispute; grant access instead: /,
    );
    expect(await snapshot(disputedEmail, once.slug)).toEqual(beforeLost);
  });

  it("refuses an unpaid order", async () => {
    const res = await h.request(`/checkout/${once.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const { orderId } = (await res.json()) as { orderId: string };
    const refused = await reopen(orderId);
    expect(refused.status).toBe(409);
    expect((await refused.json()).message).toBe(
      "This order is not paid (it is pending), so it has no access to re-open.",
    );
    const rows = await h.deps.db
      .selectFrom("entitlements")
      .select("id")
      .where("source_ref", "=", orderId)
      .execute();
    expect(rows).toEqual([]);
  });

  it("refuses a bad duration with a 400 naming it, changing nothing", async () => {
    const email = uniqueEmail("bad-for");
    const started = await endedSubscription(email);
    const before = await snapshot(email, monthly.slug);
    for (const bad of ["soon", "0d", "-1d", "400d", "7 days", "", 0, -1, 1.5, true, null]) {
      const res = await reopen(started.orderId, { for: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_input");
      expect(body.message, JSON.stringify(bad)).toMatch(/^for: /);
    }
    expect(await snapshot(email, monthly.slug)).toEqual(before);
    // Without `for`: 7 days.
    const res = await reopen(started.orderId, {});
    expect(res.status).toBe(200);
    const { until } = (await res.json()) as { until: string };
    expect(Math.abs(Date.parse(until) - (h.clock.time + 7 * DAY))).toBeLessThan(60_000);
  });

  it("the order's page re-opens with one form (days, 7 by default) and says what happened", async () => {
    const email = uniqueEmail("page");
    const started = await endedSubscription(email);
    const path = `/admin/orders/${started.orderId}`;
    const page = await h.request(path, { headers: html, cookie: owner });
    const body = await page.text();
    expect(textOf(body)).toContain("Re-open access");
    expect(body).toContain(`action="/admin/orders/${started.orderId}/reopen"`);
    expect(body).toMatch(/name="days"[^>]*value="7"/);

    const post = (days: string) =>
      h.request(`${path}/reopen`, {
        method: "POST",
        cookie: owner,
        headers: {
          ...html,
          "content-type": "application/x-www-form-urlencoded",
          origin: PUBLIC_URL,
        },
        body: new URLSearchParams({ days }).toString(),
      });
    const before = await snapshot(email, monthly.slug);
    for (const bad of ["abc", "0", "366", ""]) {
      const refused = await post(bad);
      expect(refused.status, bad).toBe(400);
      const text = textOf(await refused.text());
      expect(text).toContain("Days: give a whole number of days from 1 to 365.");
      expect(text).toContain("Re-open access");
    }
    expect(await snapshot(email, monthly.slug)).toEqual(before);

    const done = await post("3");
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${path}?done=reopened`);
    const after = textOf(
      await (await h.request(`${path}?done=reopened`, { headers: html, cookie: owner })).text(),
    );
    expect(after).toContain("Access re-opened, and a fresh download link is on its way");
    // Access is back, so the form is gone until it ends again.
    expect(after).not.toContain("Re-open access");
    const [entitlement] = await entitlementsOf(email);
    expect(entitlement?.status).toBe("active");
    expect(Math.abs(Number(entitlement?.ends_at) - (h.clock.time + 3 * DAY))).toBeLessThan(60_000);
    expect((await mailsTo(email)).length).toBe(before.mails + 1);
    const [latest] = await historyOf(email, monthly.slug);
    expect(latest).toMatchObject({ change: "reopened", by: "seller", reason: "for 3 days" });

    // A second click on the stale page: the access has not ended any more.
    const again = await post("3");
    expect(again.status).toBe(400);
    expect(textOf(await again.text())).toContain("This order's access has not ended");
    expect((await mailsTo(email)).length).toBe(before.mails + 1);
  });

  // Last: it moves the shop's clock 40 days on.
  it("an expired subscription re-opened for 7 days downloads again for 7 days, then not; one fresh link is mailed, and the history says the seller re-opened it", async () => {
    const email = uniqueEmail("expired");
    const started = await buy(monthly.slug, email);
    // The paid month and its grace go by with no renewal.
    h.clock.advance(40 * DAY);
    const cookie = await h.signIn(email);
    expect(await libraryDownload(cookie)).toBe(403);
    const mailsBefore = (await mailsTo(email)).length;

    const res = await reopen(orderReference(started.orderId));
    expect(res.status).toBe(200);
    const body = z.parse(responses.OrderReopened, await res.json());
    expect(body).toMatchObject({
      orderId: started.orderId,
      reference: orderReference(started.orderId),
      mailedTo: email,
      mailed: true,
    });
    const until = Date.parse(body.until);
    expect(Math.abs(until - (h.clock.time + 7 * DAY))).toBeLessThan(60_000);

    const mails = await mailsTo(email);
    expect(mails).toHaveLength(mailsBefore + 1);
    const [mail] = mails;
    expect(mail?.subject).toBe("Your fresh download link for Monthly Kit");
    expect(mail?.text).toContain("has re-opened your access to Monthly Kit until");
    const link = LINK.exec(mail?.text ?? "")?.[0] as string;
    const viaLink = await h.request(`${new URL(link).pathname}/${monthlyFile.id}`);
    expect(viaLink.status).toBe(200);
    expect(await viaLink.text()).toBe("monthly bytes");
    expect(await libraryDownload(cookie)).toBe(200);

    // The history reads in order: the period ran out, then the seller re-opened it.
    const [latest, before] = await historyOf(email, monthly.slug);
    expect(latest).toMatchObject({ change: "reopened", by: "seller", reason: "for 7 days" });
    expect(before).toMatchObject({
      change: "expired",
      by: "system",
      reason: "the paid period ended",
    });
    expect(Date.parse(before?.at as string)).toBeLessThan(h.clock.time - 7 * DAY);

    h.clock.advance(7 * DAY - HOUR);
    expect(await libraryDownload(cookie)).toBe(200);
    h.clock.advance(2 * HOUR);
    expect(await libraryDownload(cookie)).toBe(403);
  });
});
