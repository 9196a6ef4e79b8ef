import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { sql } from "kysely";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantAccess } from "../../src/core/access/entitlements.ts";
import { withTransaction } from "../../src/core/context.ts";
import { isPrivateHost } from "../../src/core/webhooks/addresses.ts";
import { sendDueWebhooks } from "../../src/core/webhooks/send.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";
import { type Received, webhookReceiver } from "../support/webhookReceiver.ts";

const jsonPost = {
  method: "POST",
  headers: { accept: "application/json", origin: "http://shop.test" },
};

describe.each(dialects)("outgoing webhooks on %s", (dialect) => {
  let h: Harness;
  let stripe: Stripe;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  beforeAll(async () => {
    h = await makeHarness(dialect, { WEBHOOK_ALLOW_PRIVATE_URLS: "true" }, { stripe: true });
    const url = new URL(h.runtime.localStripeUrl as string);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
    receiver = await webhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await h?.close();
  });

  async function register(path: string, events: string[]) {
    const res = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url: receiver.url(path), events },
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; secret: string; url: string };
  }
  const deliveries = async (endpointId: string) =>
    (await (await h.admin(`/api/admin/webhook-endpoints/${endpointId}/deliveries`)).json())
      .deliveries as {
      id: string;
      messageId: string;
      type: string;
      status: string;
      attempts: number;
      responseStatus: number | null;
      lastError: string | null;
      nextAttemptAt: string | null;
    }[];
  const verified = (secret: string, r: Received) =>
    new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
      type: string;
      timestamp: string;
      data: Record<string, unknown>;
    };

  it("a paid order delivers order.paid and access.granted, a refund order.refunded and access.revoked, each verified by the standardwebhooks library", async () => {
    const endpoint = await register("/paid", [
      "order.paid",
      "order.refunded",
      "access.granted",
      "access.revoked",
    ]);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // Shown once: never again.
    const again = await (await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`)).json();
    expect(again.secret).toBeUndefined();
    expect(
      JSON.stringify(await (await h.admin("/api/admin/webhook-endpoints")).json()),
    ).not.toContain(endpoint.secret);

    const product = await h.productOnSale({ price: { amount: 2500, currency: "usd" } });
    const started = (await (await h.request(`/checkout/${product.slug}`, jsonPost)).json()) as {
      url: string;
      sessionId: string;
      orderId: string;
    };
    expect((await payOnHostedPage(started.url, { email: "hooked@example.com" })).status).toBe(303);
    await waitFor(async () => receiver.at("/paid").length >= 2, "order.paid and access.granted");
    const events = receiver.at("/paid").map((r) => verified(endpoint.secret, r));
    const paid = events.find((e) => e.type === "order.paid");
    const granted = events.find((e) => e.type === "access.granted");
    expect(paid?.data).toMatchObject({
      orderId: started.orderId,
      email: "hooked@example.com",
      amount: 2500,
      currency: "usd",
      productSlug: product.slug,
      productId: product.id,
      status: "paid",
    });
    expect(granted?.data).toMatchObject({
      email: "hooked@example.com",
      productSlug: product.slug,
      source: "purchase",
      orderId: started.orderId,
      status: "active",
    });
    expect(new Date(paid?.timestamp as string).getTime()).not.toBeNaN();
    // A wrong secret fails the published verifier: the signature is really checked.
    const first = receiver.at("/paid")[0] as Received;
    expect(() =>
      verified(`whsec_${Buffer.from("x".repeat(32)).toString("base64")}`, first),
    ).toThrow();

    const session = await stripe.checkout.sessions.retrieve(started.sessionId);
    await stripe.refunds.create({ payment_intent: session.payment_intent as string });
    await waitFor(
      async () => receiver.at("/paid").length >= 4,
      "order.refunded and access.revoked",
    );
    const later = receiver
      .at("/paid")
      .slice(2)
      .map((r) => verified(endpoint.secret, r));
    expect(later.map((e) => e.type).sort()).toEqual(["access.revoked", "order.refunded"]);
    expect(later.find((e) => e.type === "access.revoked")?.data).toMatchObject({
      status: "revoked",
      reason: "refunded",
      productSlug: product.slug,
    });
    const log = await deliveries(endpoint.id);
    expect(log).toHaveLength(4);
    expect(log.every((d) => d.status === "delivered" && d.responseStatus === 200)).toBe(true);
    await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
  });

  it("a change that rolled back records and sends nothing; one that commits does", async () => {
    const endpoint = await register("/rollback", ["access.granted"]);
    const product = await h.createProduct();
    await expect(
      withTransaction(h.ctx, async (tx) => {
        await grantAccess({
          ctx: tx,
          input: {
            productId: product.id,
            owner: { email: "rolled@example.com" },
            source: "grant",
            sourceRef: "rolled",
          },
        });
        throw new Error("the change fails after the grant");
      }),
    ).rejects.toThrow("the change fails");
    await sendDueWebhooks({ ctx: h.ctx });
    await new Promise((r) => setTimeout(r, 1200));
    expect(await deliveries(endpoint.id)).toEqual([]);
    expect(receiver.at("/rollback")).toEqual([]);

    await h.grant("kept@example.com", product.slug);
    await waitFor(async () => receiver.at("/rollback").length === 1, "the committed grant");
    expect(verified(endpoint.secret, receiver.at("/rollback")[0] as Received).data).toMatchObject({
      email: "kept@example.com",
      productSlug: product.slug,
      source: "grant",
    });
    await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
  });

  it("retries a failing endpoint on the schedule (15 s, then doubling), replays a delivery with the same webhook-id", async () => {
    receiver.respondWith((r) => ({ status: r.path === "/flaky" ? 500 : 200 }));
    const endpoint = await register("/flaky", ["access.granted"]);
    const product = await h.createProduct();
    await h.grant("retry@example.com", product.slug);
    await waitFor(async () => receiver.at("/flaky").length === 1, "the first try");
    let [d] = await waitFor(async () => {
      const log = await deliveries(endpoint.id);
      return log[0]?.attempts === 1 && log[0].nextAttemptAt ? log : null;
    }, "the first failure recorded");
    expect(d).toMatchObject({ status: "pending", responseStatus: 500, attempts: 1 });
    // Not before its time: 14 s later nothing is sent.
    h.clock.advance(14_000);
    await sendDueWebhooks({ ctx: h.ctx });
    expect(receiver.at("/flaky")).toHaveLength(1);
    // The first retry within 30 s, the next ones twice as far apart each.
    h.clock.advance(2_000);
    await sendDueWebhooks({ ctx: h.ctx });
    expect(receiver.at("/flaky")).toHaveLength(2);
    [d] = await deliveries(endpoint.id);
    const second = Date.parse(d?.nextAttemptAt as string) - h.clock.time;
    expect(second).toBeGreaterThan(28_000);
    expect(second).toBeLessThanOrEqual(30_000);
    h.clock.advance(second + 10);
    await sendDueWebhooks({ ctx: h.ctx });
    expect(receiver.at("/flaky")).toHaveLength(3);
    [d] = await deliveries(endpoint.id);
    const third = Date.parse(d?.nextAttemptAt as string) - h.clock.time;
    expect(third).toBeGreaterThan(58_000);
    expect(third).toBeLessThanOrEqual(60_000);

    // The endpoint is back: a replay sends the same message again, now delivered.
    receiver.respondWith(() => ({ status: 200 }));
    const replay = await h.admin(`/api/admin/webhook-deliveries/${d?.id}/replay`, {
      method: "POST",
    });
    expect(replay.status).toBe(201);
    await waitFor(async () => receiver.at("/flaky").length === 4, "the replay");
    const [firstTry, , , replayed] = receiver.at("/flaky") as [
      Received,
      Received,
      Received,
      Received,
    ];
    expect(replayed.headers["webhook-id"]).toBe(firstTry?.headers["webhook-id"]);
    expect(replayed.body).toBe(firstTry?.body);
    verified(endpoint.secret, replayed);
    const log = await waitFor(async () => {
      const all = await deliveries(endpoint.id);
      return all.some((x) => x.status === "delivered") ? all : null;
    }, "the replay recorded");
    expect(log).toHaveLength(2);
    await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
  });

  it("an endpoint failing for three days is disabled, the seller mailed, and no event recorded for it after", async () => {
    receiver.respondWith((r) => ({ status: r.path === "/down" ? 503 : 200 }));
    const endpoint = await register("/down", ["access.granted"]);
    const product = await h.createProduct();
    await h.grant("down@example.com", product.slug);
    await waitFor(async () => receiver.at("/down").length === 1, "the first try");
    await h.runtime.webhooksSettled();
    const start = h.clock.time;
    for (let i = 0; i < 40; i++) {
      const [d] = await deliveries(endpoint.id);
      if (!d?.nextAttemptAt) break;
      h.clock.time = Math.max(h.clock.time, Date.parse(d.nextAttemptAt) + 1);
      await sendDueWebhooks({ ctx: h.ctx });
    }
    const [d] = await deliveries(endpoint.id);
    expect(d?.status).toBe("failed");
    expect(h.clock.time - start).toBeGreaterThanOrEqual(3 * 24 * 3600_000 - 60_000);
    // Exponential: about 18 tries in three days, not one every 15 s.
    expect(d?.attempts).toBeGreaterThan(10);
    expect(d?.attempts).toBeLessThan(25);
    const state = await (await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`)).json();
    expect(state).toMatchObject({ enabled: false });
    expect(state.disabledReason).toMatch(/three days/);
    const mail = await h.lastMailTo("owner@shop.test");
    expect(mail.subject).toBe(`Webhook endpoint disabled: ${receiver.url("/down")}`);
    expect(mail.text).toContain(`/admin/webhooks/endpoints/${endpoint.id}`);
    // Disabled: a new grant records nothing for it.
    await h.grant("after@example.com", product.slug);
    expect(await deliveries(endpoint.id)).toHaveLength(1);
    // Enabled again: it hears of the next event.
    const enabled = await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`, {
      method: "PATCH",
      json: { enabled: true },
    });
    expect((await enabled.json()).enabled).toBe(true);
    receiver.respondWith(() => ({ status: 200 }));
    await h.grant("back@example.com", product.slug);
    expect(await deliveries(endpoint.id)).toHaveLength(2);
    await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
  });

  it("does not follow redirects", async () => {
    receiver.respondWith((r) =>
      r.path === "/moved" ? { status: 307, headers: { location: "/elsewhere" } } : { status: 200 },
    );
    const endpoint = await register("/moved", ["access.granted"]);
    const product = await h.createProduct();
    await h.grant("moved@example.com", product.slug);
    const [d] = await waitFor(async () => {
      const log = await deliveries(endpoint.id);
      return log[0]?.attempts ? log : null;
    }, "the try");
    expect(d).toMatchObject({ status: "pending", responseStatus: 307 });
    expect(d?.lastError).toMatch(/Redirect to \/elsewhere not followed/);
    expect(receiver.at("/elsewhere")).toEqual([]);
    await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
  });

  it.runIf(dialect === "sqlite")(
    "gives up on a try after 10 s",
    async () => {
      receiver.respondWith((r) =>
        r.path === "/slow" ? { status: 200, delayMs: 15_000 } : { status: 200 },
      );
      const endpoint = await register("/slow", ["access.granted"]);
      const product = await h.createProduct();
      const started = Date.now();
      await h.grant("slow@example.com", product.slug);
      const [d] = await waitFor(
        async () => {
          const log = await deliveries(endpoint.id);
          return log[0]?.attempts && log[0].lastError ? log : null;
        },
        "the timeout",
        20_000,
      );
      const took = Date.now() - started;
      expect(d?.lastError).toMatch(/No answer within 10 s/);
      expect(d?.status).toBe("pending");
      expect(took).toBeGreaterThanOrEqual(9_500);
      expect(took).toBeLessThan(14_000);
      await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}`, { method: "DELETE" });
    },
    30_000,
  );

  it("validates what it registers: events and URL", async () => {
    const bad = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url: receiver.url("/x"), events: ["order.shipped"] },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/events/);
    const noUrl = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url: "ftp://example.com/x", events: ["order.paid"] },
    });
    expect(noUrl.status).toBe(400);
  });
});

describe("private addresses without WEBHOOK_ALLOW_PRIVATE_URLS", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness("sqlite");
  });
  afterAll(() => h?.close());

  it.each([
    "http://127.0.0.1:8080/hook",
    "https://10.1.2.3/hook",
    "https://172.20.0.1/hook",
    "https://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://localhost:3000/hook",
    "http://api.localhost/hook",
  ])("refuses %s with a clear 400", async (url) => {
    const res = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url, events: ["order.paid"] },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(
      /loopback or private address; set WEBHOOK_ALLOW_PRIVATE_URLS=true/,
    );
  });

  it("takes a public address, and refuses at send time a name that resolves inside", async () => {
    const res = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url: "https://hooks.example.com/tollgate", events: ["access.granted"] },
    });
    expect(res.status).toBe(201);
    // A name that resolves inside (this machine's own name), written as if DNS had changed.
    const own = hostname();
    const addresses = (await lookup(own, { all: true })).map((a) => a.address);
    const endpoint = await res.json();
    await sql`update webhook_endpoints set url = ${`http://${own}:8089/hook`} where id = ${endpoint.id}`.execute(
      h.deps.db,
    );
    const product = await h.createProduct();
    await h.grant("dns@example.com", product.slug);
    await sendDueWebhooks({ ctx: h.ctx });
    const [d] = (
      await (await h.admin(`/api/admin/webhook-endpoints/${endpoint.id}/deliveries`)).json()
    ).deliveries;
    if (addresses.some(isPrivateHost)) expect(d.lastError).toMatch(/resolves to .*private address/);
    else expect(d.lastError).not.toMatch(/private/);
    expect(d.status).toBe("pending");
  });
});
