import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepExpired } from "../../src/core/maintenance.ts";
import { CHECKOUT_LIMITS } from "../../src/core/orders/checkoutLimits.ts";
import { STALE_CHECKOUT_MS } from "../../src/core/orders/staleCheckouts.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, signature } from "../support/stripe.ts";

const json = { accept: "application/json" };
const html = { accept: "text/html" };
const MINUTE = 60_000;

/**
 * Issue 12, item 5: checkouts and payment checks cost an order row and a Stripe call each, and
 * anyone may ask for them; and checkouts nobody paid must not sit in the seller's lists forever.
 */
describe.each(dialects)("unpaid load on %s", (dialect) => {
  let h: Harness;
  let stripe: Stripe;
  beforeAll(async () => {
    // "manual": the local Stripe runs, but only the events the test posts reach the app.
    h = await makeHarness(dialect, {}, { stripe: "manual" });
    const url = new URL(h.runtime.localStripeUrl as string);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
  });
  afterAll(() => h.close());

  /** A request from a client at `ip`, as the Node server sees it (the socket's peer). */
  const from = (ip: string, path: string, init: RequestInit = {}) =>
    h.runtime.app.request(new URL(path, PUBLIC_URL).toString(), init, {
      incoming: { socket: { remoteAddress: ip } },
    });
  const buy = (ip: string, slug: string, headers: Record<string, string> = json) =>
    from(ip, `/checkout/${slug}`, { method: "POST", headers });
  const sync = (ip: string, sessionId: string) =>
    from(ip, "/api/checkout/sync", {
      method: "POST",
      headers: { "content-type": "application/json", ...json },
      body: JSON.stringify({ sessionId }),
    });
  const madeUp = () => `cs_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const orderCount = async () =>
    Number(
      (
        await h.deps.db
          .selectFrom("orders")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("one client posting checkouts over and over is refused with 429 long before 100 a minute; others, and the seller, are not", async () => {
    const product = await h.productOnSale();
    const before = await orderCount();
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await buy("203.0.113.10", product.slug);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
        const body = await res.json();
        expect(body).toMatchObject({ code: "rate_limited" });
        expect(body.message).toMatch(/Too many checkouts/);
        break;
      }
      expect(res.status).toBe(201);
    }
    expect(statuses.length).toBeLessThan(50);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s === 201).length).toBe(CHECKOUT_LIMITS.start.perClient);
    // Nothing was recorded (nor asked of Stripe) for the refused one.
    expect((await orderCount()) - before).toBe(CHECKOUT_LIMITS.start.perClient);

    // The Buy button's form gets a page that says so, with the same Retry-After.
    const form = await buy("203.0.113.10", product.slug, {
      ...html,
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(429);
    expect(form.headers.get("content-type")).toMatch(/^text\/html/);
    expect(form.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(await form.text()).toContain("Too many checkouts were started from your network");

    expect((await buy("203.0.113.11", product.slug)).status).toBe(201);
    const seller = await h.admin(`/checkout/${product.slug}`, { method: "POST", headers: json });
    expect(seller.status).toBe(201);

    h.clock.advance(CHECKOUT_LIMITS.start.windowSeconds * 1000);
    expect((await buy("203.0.113.10", product.slug)).status).toBe(201);
  });

  it("made-up session ids are refused with 429 long before 100, and the success page shares that limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await sync("198.51.100.20", madeUp());
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
        expect(await res.json()).toMatchObject({ code: "rate_limited" });
        break;
      }
      expect(res.status).toBe(404);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBe(CHECKOUT_LIMITS.confirm.perClient + 1);
    expect(statuses.length).toBeLessThan(50);

    const page = await from("198.51.100.20", `/checkout/success?session_id=${madeUp()}`, {
      headers: html,
    });
    expect(page.status).toBe(429);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(await page.text()).toContain("Too many payment checks");

    // Another client is not held up by this one.
    expect((await sync("198.51.100.21", madeUp())).status).toBe(404);
  });

  it("requests whose client address is unknown share one bucket, so they are limited too, under 100 a minute", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100 && statuses.at(-1) !== 429; i++) {
      const res = await h.request("/api/checkout/sync", {
        method: "POST",
        headers: { "content-type": "application/json", ...json },
        body: JSON.stringify({ sessionId: madeUp() }),
      });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBe(CHECKOUT_LIMITS.confirm.unknownClients + 1);
    h.clock.advance(CHECKOUT_LIMITS.confirm.windowSeconds * 1000);
  });

  it("a real buyer whose page polls while the payment is confirmed, and who reloads it again and again, is never refused", async () => {
    const buyer = "192.0.2.30";
    const product = await h.productOnSale({ name: "Slow Kit" });
    await h.upload(product.slug, "slow-kit.zip", "slow bytes");
    const started = await buy(buyer, product.slug);
    const { url, sessionId } = (await started.json()) as { url: string; sessionId: string };
    expect((await payOnHostedPage(url, { method: "bank_transfer" })).status).toBe(303);

    // What a browser does over ten minutes (src/pages/static/checkoutStatus.ts): each load of the
    // success page starts a poll after 1 s, then 2 s more, ... up to every 10 s, until the page is
    // reloaded. This buyer reloads every 10 s for the first minute, then now and then.
    const loads = [0, 10, 20, 30, 40, 50, 60, 120, 240, 300, 420].map((s) => s * 1000);
    const timeline: { at: number; what: "load" | "poll" }[] = [];
    loads.forEach((at, i) => {
      const until = loads[i + 1] ?? 10 * MINUTE;
      timeline.push({ at, what: "load" });
      let t = at;
      for (let attempt = 1; ; attempt++) {
        t += Math.min(attempt, 10) * 1000;
        if (t >= until) break;
        timeline.push({ at: t, what: "poll" });
      }
    });
    timeline.sort((a, b) => a.at - b.at);
    const start = h.clock.time;
    const refused: string[] = [];
    for (const step of timeline) {
      h.clock.time = Math.max(h.clock.time, start + step.at);
      const res =
        step.what === "load"
          ? await from(buyer, `/checkout/success?session_id=${sessionId}`, { headers: html })
          : await sync(buyer, sessionId);
      if (res.status !== 200) refused.push(`${step.what} at ${step.at / 1000} s: ${res.status}`);
      else if (step.what === "poll") expect((await res.json()).status).toBe("pending");
      else expect(await res.text()).toContain("Confirming your payment...");
    }
    expect(refused).toEqual([]);
    expect(timeline.length).toBeGreaterThan(CHECKOUT_LIMITS.confirm.perClient);

    // The bank transfer settles: the next poll says paid and the page shows the file.
    const settled = await fetch(`${h.runtime.localStripeUrl}/_local/sessions/${sessionId}/settle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(settled.status).toBe(200);
    expect((await (await sync(buyer, sessionId)).json()).status).toBe("paid");
    const done = await from(buyer, `/checkout/success?session_id=${sessionId}`, { headers: html });
    expect(await done.text()).toContain("Download slow-kit.zip");
  });

  it("a checkout nobody paid leaves the seller's pending orders once it can no longer be paid; a late payment still counts", async () => {
    const ip = "192.0.2.40";
    const product = await h.productOnSale();
    await h.upload(product.slug, "kit.zip", "kit bytes");
    const start = async () =>
      (await (await buy(ip, product.slug)).json()) as {
        url: string;
        sessionId: string;
        orderId: string;
      };
    const postEvent = async (type: string, sessionId: string) => {
      const event = (await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 }))
        .filter((e) => e.type === type && JSON.stringify(e.data.object).includes(sessionId))
        .at(0);
      if (!event) throw new Error(`no ${type} for ${sessionId}`);
      const body = JSON.stringify(event);
      const res = await h.request("/webhooks/stripe", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          // Signed now by the shop's clock, as a late delivery would be.
          "stripe-signature": signature(body, { timestamp: Math.floor(h.clock.time / 1000) }),
        },
        body,
      });
      expect(res.status).toBe(200);
    };
    const orders = async () =>
      (
        (await (await h.admin("/api/admin/orders?limit=200")).json()) as {
          orders: { id: string; status: string }[];
        }
      ).orders;
    const statusOf = async (id: string) => (await orders()).find((o) => o.id === id)?.status;

    const unpaid = await start();
    // A bank transfer: the checkout completed and the money is on its way; it stays pending.
    const transfer = await start();
    await payOnHostedPage(transfer.url, { method: "bank_transfer", email: "bank@example.com" });
    await postEvent("checkout.session.completed", transfer.sessionId);

    h.clock.advance(STALE_CHECKOUT_MS - 5 * MINUTE);
    const recent = await start();
    await sweepExpired({ ctx: h.ctx });
    expect(await statusOf(unpaid.orderId)).toBe("pending");
    h.clock.advance(10 * MINUTE);
    expect((await sweepExpired({ ctx: h.ctx })).abandonedOrders).toBeGreaterThanOrEqual(1);

    const pending = (await orders()).filter((o) => o.status === "pending").map((o) => o.id);
    expect(pending).not.toContain(unpaid.orderId);
    expect(pending).toEqual(expect.arrayContaining([transfer.orderId, recent.orderId]));
    expect(await statusOf(unpaid.orderId)).toBe("abandoned");
    const page = await (await h.admin("/admin/orders?status=pending", { headers: html })).text();
    expect(page).not.toContain(unpaid.orderId);
    expect(page).toContain(transfer.orderId);

    // The buyer paid after all (a late webhook): paid wins, access is granted, and housekeeping
    // never takes it back.
    expect((await payOnHostedPage(unpaid.url, { email: "late@example.com" })).status).toBe(303);
    await postEvent("checkout.session.completed", unpaid.sessionId);
    expect(await statusOf(unpaid.orderId)).toBe("paid");
    const owned = await (await h.admin("/api/admin/entitlements?email=late@example.com")).json();
    expect(owned.entitlements).toHaveLength(1);
    h.clock.advance(STALE_CHECKOUT_MS);
    await sweepExpired({ ctx: h.ctx });
    expect(await statusOf(unpaid.orderId)).toBe("paid");
    expect(await statusOf(transfer.orderId)).toBe("pending");
  });
});
