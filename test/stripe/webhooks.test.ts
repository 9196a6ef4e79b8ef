import { sql } from "kysely";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderReference } from "../../src/core/orders/reference.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, signature, waitFor } from "../support/stripe.ts";

const json = { accept: "application/json", origin: "http://shop.test" };

/** The local Stripe runs, but nothing reaches the app unless the test posts it: order is ours. */
describe.each(dialects)("Stripe webhooks on %s", (dialect) => {
  let h: Harness;
  let stripe: Stripe;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: "manual" });
    const url = new URL(h.runtime.localStripeUrl as string);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
  });
  afterAll(() => h.close());

  const post = (body: string, header: string | null = signature(body)) =>
    h.request("/webhooks/stripe", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(header ? { "stripe-signature": header } : {}),
      },
      body,
    });
  const count = async (table: "webhook_events" | "entitlements" | "orders") =>
    Number(
      (await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(h.deps.db))
        .rows[0]?.n,
    );
  const entitlementsOf = async (email: string) =>
    (await (await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`)).json())
      .entitlements;
  const orderRow = (id: string) =>
    h.deps.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const eventsFor = async (filter: (e: Stripe.Event) => boolean) =>
    (await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 }))
      .filter(filter)
      .reverse();
  const aboutSession = (sessionId: string) => (e: Stripe.Event) =>
    JSON.stringify(e.data.object).includes(sessionId);

  /** Starts a checkout in the app and pays it on the local page; no event reaches the app. */
  async function paidSession(email: string, extra: Record<string, unknown> = {}) {
    const product = await h.productOnSale(extra);
    await h.upload(product.slug, "kit.zip", "kit");
    const res = await h.request(`/checkout/${product.slug}`, { method: "POST", headers: json });
    const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email })).status).toBe(303);
    const completed = (
      await eventsFor(
        (e) => e.type === "checkout.session.completed" && aboutSession(started.sessionId)(e),
      )
    )[0];
    if (!completed) throw new Error("no completed event");
    return { product, ...started, completed: JSON.stringify(completed) };
  }

  it("refuses missing, malformed and wrong signatures, changed bodies, old and future timestamps; writes nothing", async () => {
    const { completed } = await paidSession("sig@example.com");
    const before = {
      events: await count("webhook_events"),
      entitlements: await count("entitlements"),
    };
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string | null, number][] = [
      [completed, null, 400],
      [completed, "garbage", 400],
      [completed, "t=123", 400],
      [completed, signature(completed, { secret: "whsec_wrongwrongwrongwrongwrong" }), 400],
      [completed.replace('"livemode":false', '"livemode":false '), signature(completed), 400],
      [completed, signature(completed, { timestamp: now - 301 - 5 }), 400],
      [completed, signature(completed, { timestamp: now + 301 + 5 }), 400],
    ];
    for (const [body, header, status] of cases) {
      const res = await post(body, header);
      expect(res.status, String(header)).toBe(status);
      expect(await res.json()).toMatchObject({
        code: "invalid_input",
        message: expect.stringMatching(/Stripe-Signature|signature/i),
      });
    }
    const oneByte =
      completed.slice(0, -2) + (completed.at(-2) === " " ? "x" : " ") + completed.at(-1);
    expect((await post(oneByte, signature(completed))).status).toBe(400);
    expect(await count("webhook_events")).toBe(before.events);
    expect(await count("entitlements")).toBe(before.entitlements);
  });

  it("refuses bodies over 1 MB and malformed JSON even when signed", async () => {
    const big = JSON.stringify({ id: "evt_big", pad: "x".repeat(1024 * 1024) });
    expect((await post(big)).status).toBe(413);
    const broken = '{"id": "evt_broken", ';
    const res = await post(broken);
    expect(res.status).toBe(400);
    expect((await res.json()).message).toBe("The webhook body is not valid JSON.");
  });

  it("refuses a correctly signed body that is not an event (400) and writes nothing", async () => {
    const before = await count("webhook_events");
    const event = {
      id: "evt_shape_1",
      object: "event",
      type: "customer.created",
      livemode: false,
      created: 1,
      data: { object: { id: "cus_1", object: "customer" } },
    };
    const { id: _id, ...noId } = event;
    const { type: _type, ...noType } = event;
    const bodies = [
      "[]",
      "null",
      "42",
      '"evt_1"',
      "true",
      "{}",
      JSON.stringify(noId),
      JSON.stringify(noType),
      JSON.stringify({ ...event, id: 7 }),
      JSON.stringify({ ...event, type: null }),
      JSON.stringify({ ...event, id: "" }),
      JSON.stringify({ ...event, data: null }),
      JSON.stringify({ ...event, type: "checkout.session.completed", data: {} }),
      JSON.stringify([event]),
    ];
    for (const body of bodies) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      expect(await res.json(), body).toMatchObject({
        code: "invalid_input",
        message: "The webhook body is not a Stripe event.",
      });
    }
    expect(await count("webhook_events")).toBe(before);
    // The same event, whole, is taken.
    expect((await post(JSON.stringify(event))).status).toBe(200);
    expect(await count("webhook_events")).toBe(before + 1);
  });

  it("answers every bad signature with one plain message of ours, never the library's", async () => {
    const body = JSON.stringify({
      id: "evt_badsig_1",
      object: "event",
      type: "customer.created",
      livemode: false,
      created: 1,
      data: { object: { id: "cus_1", object: "customer" } },
    });
    const now = Math.floor(Date.now() / 1000);
    const headers = [
      "t=,v1=",
      "t=,v1=,v0=",
      "t=",
      "v1=",
      ",",
      "garbage",
      "t=123",
      `t=${now}`,
      `t=${now},v1=`,
      `t=${now},v1=abc`,
      `t=${now},v0=${"0".repeat(64)}`,
      `t=${now},v1=${"0".repeat(64)}`,
      signature(body, { secret: "whsec_wrongwrongwrongwrongwrong" }),
      signature(body, { timestamp: now - 3600 }),
      signature(body, { timestamp: now + 3600 }),
      signature(`${body} `),
    ];
    const answers = new Set<string>();
    for (const header of headers) {
      const res = await post(body, header);
      expect(res.status, header).toBe(400);
      const { requestId: _, ...answer } = await res.json();
      answers.add(JSON.stringify(answer));
    }
    expect([...answers]).toEqual([
      JSON.stringify({ code: "invalid_input", message: "Invalid Stripe signature." }),
    ]);
    // An empty body with any header is the same bad signature.
    const empty = await post("", "t=,v1=");
    expect(empty.status).toBe(400);
    expect((await empty.json()).message).toBe("Invalid Stripe signature.");
  });

  it("acknowledges events it does not act on, and events of the other mode, without acting", async () => {
    const other = JSON.stringify({
      id: "evt_other_1",
      object: "event",
      type: "customer.created",
      livemode: false,
      created: 1,
      data: { object: { id: "cus_1", object: "customer" } },
    });
    const res = await post(other);
    expect(res.status).toBe(200);
    const { completed } = await paidSession("live@example.com");
    const live = JSON.stringify({ ...JSON.parse(completed), id: "evt_live_copy", livemode: true });
    expect((await post(live)).status).toBe(200);
    expect(await entitlementsOf("live@example.com")).toEqual([]);
    const events = (await (await h.admin("/api/admin/webhook-events")).json()).events;
    expect(events.find((e: { id: string }) => e.id === "evt_other_1").status).toBe("ignored");
    expect(events.find((e: { id: string }) => e.id === "evt_live_copy")).toMatchObject({
      status: "ignored",
      error: expect.stringMatching(/livemode/),
    });
  });

  it("the same event delivered 10 times at once grants once and mails one receipt", async () => {
    const { completed, orderId } = await paidSession("dup@example.com");
    const results = await Promise.all(Array.from({ length: 10 }, () => post(completed)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = await Promise.all(results.map((r) => r.json()));
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    expect(await entitlementsOf("dup@example.com")).toEqual([
      expect.objectContaining({ status: "active" }),
    ]);
    expect((await orderRow(orderId)).status).toBe("paid");
    // The receipt is queued with the payment and sent after the answer: wait for the queue.
    await waitFor(
      async () =>
        (await h.deps.db.selectFrom("receipt_queue").select("order_id").execute()).length === 0,
      "the receipt queue to drain",
    );
    const { messages } = await (await h.admin("/api/admin/outbox?to=dup@example.com")).json();
    expect(
      messages.filter((m: { subject: string }) => m.subject.startsWith("Your purchase")),
    ).toHaveLength(1);
  });

  it("a refund that arrives before the completion leaves no access", async () => {
    const { completed, sessionId, orderId } = await paidSession("early-refund@example.com");
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    await stripe.refunds.create({ payment_intent: session.payment_intent as string });
    const refunded = (
      await eventsFor(
        (e) =>
          e.type === "charge.refunded" &&
          JSON.stringify(e.data.object).includes(session.payment_intent as string),
      )
    )[0];
    expect((await post(JSON.stringify(refunded))).status).toBe(200);
    expect((await orderRow(orderId)).status).toBe("refunded");
    expect((await post(completed)).status).toBe(200);
    expect((await orderRow(orderId)).status).toBe("refunded");
    expect(await entitlementsOf("early-refund@example.com")).toEqual([]);
  });

  it("a refunded buyer gets one refund mail, however often Stripe delivers the event", async () => {
    const email = "refunded@example.com";
    const { completed, sessionId, orderId } = await paidSession(email);
    expect((await post(completed)).status).toBe(200);
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    await stripe.refunds.create({ payment_intent: session.payment_intent as string });
    const refunded = (
      await eventsFor(
        (e) =>
          e.type === "charge.refunded" &&
          JSON.stringify(e.data.object).includes(session.payment_intent as string),
      )
    )[0];
    const body = JSON.stringify(refunded);
    expect((await post(body)).status).toBe(200);
    // A redelivery, and the same refund under another event id (Stripe retries, replays).
    expect((await post(body)).status).toBe(200);
    const again = JSON.stringify({ ...refunded, id: `${refunded?.id}_again` });
    expect((await post(again)).status).toBe(200);
    await waitFor(
      async () =>
        (await h.deps.db.selectFrom("receipt_queue").select("order_id").execute()).length === 0,
      "the mail queue to drain",
    );
    const { messages } = await (await h.admin(`/api/admin/outbox?to=${email}`)).json();
    const notices = messages.filter((m: { subject: string }) => m.subject.startsWith("Refunded"));
    expect(notices).toHaveLength(1);
    expect(notices[0].subject).toBe("Refunded: Kit");
    expect(notices[0].text).toContain(`Order reference: ${orderReference(orderId)}`);
    expect(notices[0].text).toContain("Amount refunded: $19.00");
    expect(notices[0].text).toContain("no longer work");
  });

  it("a session whose line items or currency differ from the order grants nothing and is flagged", async () => {
    const product = await h.productOnSale({ price: { amount: 1900, currency: "usd" } });
    const res = await h.request(`/checkout/${product.slug}`, { method: "POST", headers: json });
    const { orderId } = (await res.json()) as { orderId: string };
    const cheap = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [
        {
          quantity: 1,
          price_data: { currency: "usd", unit_amount: 100, product_data: { name: "cheap" } },
        },
      ],
      metadata: { product: product.slug, order: orderId },
      payment_intent_data: { metadata: { product: product.slug, order: orderId } },
      success_url: "http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "http://shop.test/",
    });
    await payOnHostedPage(cheap.url as string, { email: "cheat@example.com" });
    const completed = (
      await eventsFor((e) => e.type === "checkout.session.completed" && aboutSession(cheap.id)(e))
    )[0];
    expect((await post(JSON.stringify(completed))).status).toBe(200);
    const order = await orderRow(orderId);
    expect(order.status).toBe("pending");
    expect(order.flag).toMatch(/session is not the order's session|amount/);
    expect(await entitlementsOf("cheat@example.com")).toEqual([]);
  });

  it("a session this shop did not start (unknown product in metadata) grants nothing", async () => {
    const foreign = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [
        {
          quantity: 1,
          price_data: { currency: "usd", unit_amount: 500, product_data: { name: "x" } },
        },
      ],
      metadata: { product: "no-such-product" },
      success_url: "http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "http://shop.test/",
    });
    await payOnHostedPage(foreign.url as string, { email: "foreign@example.com" });
    const before = await count("orders");
    const completed = (
      await eventsFor((e) => e.type === "checkout.session.completed" && aboutSession(foreign.id)(e))
    )[0];
    const res = await post(JSON.stringify(completed));
    expect(res.status).toBe(200);
    expect((await res.json()).outcome).toBe("flagged");
    expect(await count("orders")).toBe(before);
    expect(await entitlementsOf("foreign@example.com")).toEqual([]);
  });

  it("a database failure in the middle answers 5xx, leaves nothing half-written, and the retry completes once", async () => {
    const { completed, orderId } = await paidSession("dbfail@example.com");
    await installFailure(h, dialect);
    const failed = await post(completed);
    expect(failed.status).toBe(500);
    expect((await orderRow(orderId)).status).toBe("pending");
    expect(await entitlementsOf("dbfail@example.com")).toEqual([]);
    const recorded = (await (await h.admin("/api/admin/webhook-events")).json()).events.find(
      (e: { id: string }) => e.id === JSON.parse(completed).id,
    );
    expect(recorded).toMatchObject({
      status: "failed",
      error: expect.stringContaining("injected failure"),
    });
    await removeFailure(h, dialect);
    const retried = await post(completed);
    expect(retried.status).toBe(200);
    expect((await retried.json()).duplicate).toBe(false);
    expect((await orderRow(orderId)).status).toBe("paid");
    expect(await entitlementsOf("dbfail@example.com")).toHaveLength(1);
    expect((await post(completed)).status).toBe(200);
    expect(await entitlementsOf("dbfail@example.com")).toHaveLength(1);
  });

  it("replay and reconcile feed events through the same path exactly once", async () => {
    const { completed, orderId } = await paidSession("reconcile@example.com");
    const eventId = JSON.parse(completed).id as string;
    const report = await (await import("../../src/core/orders/reconcile.ts")).reconcile({
      ctx: h.ctx,
      input: { sinceMs: Date.now() - 3600_000 },
    });
    expect(report.failed).toEqual([]);
    expect((await orderRow(orderId)).status).toBe("paid");
    const again = await (await import("../../src/core/orders/reconcile.ts")).reconcile({
      ctx: h.ctx,
      input: { sinceMs: Date.now() - 3600_000 },
    });
    expect(again.applied).toBe(0);
    expect(await entitlementsOf("reconcile@example.com")).toHaveLength(1);
    const replay = await h.admin(`/api/admin/webhook-events/${eventId}/replay`, { method: "POST" });
    expect(replay.status).toBe(200);
    expect(await entitlementsOf("reconcile@example.com")).toHaveLength(1);
    expect(
      (await h.admin("/api/admin/webhook-events/evt_nope/replay", { method: "POST" })).status,
    ).toBe(404);
  });
});

async function installFailure(h: Harness, dialect: string) {
  const db = h.deps.db;
  if (dialect === "sqlite") {
    await sql`create trigger fail_grants before insert on entitlements begin select raise(abort, 'injected failure'); end`.execute(
      db,
    );
  } else {
    await sql`create or replace function fail_grants() returns trigger as $$ begin raise exception 'injected failure'; end $$ language plpgsql`.execute(
      db,
    );
    await sql`create trigger fail_grants before insert on entitlements for each row execute function fail_grants()`.execute(
      db,
    );
  }
}

async function removeFailure(h: Harness, dialect: string) {
  await sql`drop trigger fail_grants${sql.raw(dialect === "sqlite" ? "" : " on entitlements")}`.execute(
    h.deps.db,
  );
}
