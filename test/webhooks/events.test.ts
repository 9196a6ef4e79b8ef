import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_TYPES } from "../../src/core/webhooks/events.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";
import { type Received, webhookReceiver } from "../support/webhookReceiver.ts";

/**
 * The events of docs/webhooks.md that only licences, disputes and subscriptions cause: each
 * caused the way a licence client, the seller or Stripe would, heard once by the endpoint that
 * asked for it (verified by the published Standard Webhooks library, with the documented data),
 * and not at all by one that asked for every other type.
 */
describe.each(dialects)("outgoing webhook events on %s", (dialect) => {
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

  interface Endpoint {
    id: string;
    secret: string;
    path: string;
  }
  let endpoints = 0;
  async function register(events: string[]): Promise<Endpoint> {
    const path = `/hook-${++endpoints}`;
    const res = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url: receiver.url(path), events },
    });
    expect(res.status).toBe(201);
    const { id, secret } = (await res.json()) as { id: string; secret: string };
    return { id, secret, path };
  }
  /**
   * Two endpoints: one subscribed to `type` only, one to every other type. Registered after the
   * test's setup (the purchase or grant that came before), so each hears only what follows.
   */
  async function watch(type: (typeof WEBHOOK_EVENT_TYPES)[number]) {
    return {
      on: await register([type]),
      off: await register(WEBHOOK_EVENT_TYPES.filter((t) => t !== type)),
    };
  }
  const unregister = async (...all: Endpoint[]) => {
    for (const e of all)
      await h.admin(`/api/admin/webhook-endpoints/${e.id}`, { method: "DELETE" });
  };
  /** The endpoint's delivery log: the outbox, written in the change's own transaction. */
  const deliveries = async (e: Endpoint) =>
    (await (await h.admin(`/api/admin/webhook-endpoints/${e.id}/deliveries`)).json())
      .deliveries as { id: string; type: string; status: string }[];
  const verified = (secret: string, r: Received) =>
    new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
      type: string;
      timestamp: string;
      data: Record<string, unknown>;
    };
  /** The one event the endpoint got, once it has been delivered: verified, of that type. */
  async function theOnly(e: Endpoint, type: string) {
    const log = await waitFor(async () => {
      const all = await deliveries(e);
      return all.some((d) => d.status === "delivered") ? all : null;
    }, type);
    expect(log.map((d) => [d.type, d.status])).toEqual([[type, "delivered"]]);
    const got = receiver.at(e.path);
    expect(got).toHaveLength(1);
    const event = verified(e.secret, got[0] as Received);
    expect(event.type).toBe(type);
    return event;
  }
  /** Nothing recorded for the endpoint, nothing received (the change has committed by now). */
  async function nothingFor(e: Endpoint) {
    expect(await deliveries(e)).toEqual([]);
    expect(receiver.at(e.path)).toEqual([]);
  }
  const within = (timestamp: string, from: number) => {
    const t = Date.parse(timestamp);
    expect(t).toBeGreaterThanOrEqual(from);
    expect(t).toBeLessThanOrEqual(h.clock.time);
  };

  /** The seller's app on a buyer's machine: the public licence API, no secret. */
  const app = async (verb: string, body: Record<string, unknown>) => {
    const res = await h.request(`/api/v1/licenses/${verb}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  async function licenseOf(email: string) {
    const res = await h.admin(`/api/admin/licenses?email=${encodeURIComponent(email)}`);
    const [license, ...more] = (await res.json()).licenses as {
      id: string;
      key: string;
      status: string;
      entitlementId: string;
      owner: { email: string; userId: string | null };
    }[];
    expect(more).toEqual([]);
    if (!license) throw new Error(`no licence for ${email}`);
    return license;
  }
  const entitlementsOf = async (email: string) =>
    (await (await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`)).json())
      .entitlements as { id: string; status: string; userId: string | null }[];
  const orderOf = async (orderId: string) =>
    (
      (await (await h.admin("/api/admin/orders")).json()).orders as {
        id: string;
        status: string;
      }[]
    ).find((o) => o.id === orderId);

  /** Buys through the local Stripe, which delivers its events to the shop; signed in if a cookie. */
  async function buy(slug: string, email: string, cookie?: string) {
    const res = await h.request(`/checkout/${slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
      ...(cookie ? { cookie } : {}),
    });
    expect(res.status).toBe(201);
    const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email })).status).toBe(303);
    await waitFor(async () => (await orderOf(started.orderId))?.status === "paid", "the payment");
    await waitFor(async () => (await entitlementsOf(email)).length > 0, "the access");
    return started;
  }
  /** The local Stripe's triggers: a dispute opened or closed, a subscription cancelled. */
  const trigger = async (path: string, body: Record<string, unknown> = {}) => {
    const res = await fetch(`${h.runtime.localStripeUrl}/_local${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk_test_local" },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { object: { id: string } };
  };

  const licensed = (activationLimit: number | null) =>
    h.productOnSale({
      price: { amount: 4900, currency: "usd" },
      license: { enabled: true, activationLimit },
    });

  it("license.activated: the app activates a signed-in buyer's key on a new machine, once however often it asks again", async () => {
    const product = await licensed(2);
    const email = "activator@example.com";
    await buy(product.slug, email, await h.signIn(email));
    const license = await licenseOf(email);
    // Bought signed in: the event names the buyer's account too.
    expect(license.owner.userId).toEqual(expect.any(String));
    const { on, off } = await watch("license.activated");

    const from = h.clock.time;
    const activated = await app("activate", {
      key: license.key,
      fingerprint: "studio-mac",
      label: "Studio Mac",
    });
    expect(activated.status).toBe(200);
    expect(activated.body.license).toMatchObject({ product: product.slug, activations: 1 });
    // The same machine again (a reinstall), and a check: no new machine, no new event.
    const again = await app("activate", {
      key: license.key.toLowerCase(),
      fingerprint: "studio-mac",
    });
    expect(again.body.activation.id).toBe(activated.body.activation.id);
    expect(
      (await app("validate", { key: license.key, fingerprint: "studio-mac" })).body.valid,
    ).toBe(true);

    const event = await theOnly(on, "license.activated");
    within(event.timestamp, from);
    expect(event.data).toEqual({
      licenseId: license.id,
      entitlementId: license.entitlementId,
      email,
      userId: license.owner.userId,
      activationId: activated.body.activation.id,
      fingerprint: "studio-mac",
      label: "Studio Mac",
      productId: product.id,
      productSlug: product.slug,
    });
    // Never the key itself.
    expect(receiver.at(on.path)[0]?.body).not.toContain(license.key);
    await nothingFor(off);
    await unregister(on, off);
  });

  it("license.activated: a licence file fetched for a new machine activates it; a label-less machine's label is null", async () => {
    const product = await licensed(null);
    const email = "offline@example.com";
    await h.grant(email, product.slug);
    const license = await licenseOf(email);
    const { on, off } = await watch("license.activated");
    const file = await app("offline", { key: license.key, fingerprint: "air-gapped" });
    expect(file.status).toBe(200);
    expect(file.body.licenseFile).toEqual(expect.any(String));
    const event = await theOnly(on, "license.activated");
    expect(event.data).toEqual({
      licenseId: license.id,
      entitlementId: license.entitlementId,
      email,
      userId: null,
      activationId: expect.stringMatching(/^act_/),
      fingerprint: "air-gapped",
      label: null,
      productId: product.id,
      productSlug: product.slug,
    });
    const [machine] = (await (await h.admin(`/api/admin/licenses/${license.id}`)).json())
      .activations as { id: string }[];
    expect(event.data.activationId).toBe(machine?.id);
    await nothingFor(off);
    await unregister(on, off);
  });

  it("license.deactivated: the app frees its machine, once; freeing it again is no change and no event", async () => {
    const product = await licensed(3);
    const email = "uninstaller@example.com";
    await buy(product.slug, email, await h.signIn(email));
    const license = await licenseOf(email);
    expect(
      (await app("activate", { key: license.key, fingerprint: "old-laptop", label: "Old" })).status,
    ).toBe(200);
    expect((await app("activate", { key: license.key, fingerprint: "new-laptop" })).status).toBe(
      200,
    );
    const { on, off } = await watch("license.deactivated");

    const from = h.clock.time;
    const freed = await app("deactivate", { key: license.key, fingerprint: "old-laptop" });
    expect(freed).toMatchObject({
      status: 200,
      body: { deactivated: true, license: { activations: 1 } },
    });
    const twice = await app("deactivate", { key: license.key, fingerprint: "old-laptop" });
    expect(twice.body).toMatchObject({ deactivated: false, license: { activations: 1 } });
    const never = await app("deactivate", { key: license.key, fingerprint: "never-seen" });
    expect(never.body.deactivated).toBe(false);

    const event = await theOnly(on, "license.deactivated");
    within(event.timestamp, from);
    expect(event.data).toEqual({
      licenseId: license.id,
      entitlementId: license.entitlementId,
      email,
      userId: license.owner.userId,
      fingerprint: "old-laptop",
      by: "app",
      productId: product.id,
      productSlug: product.slug,
    });
    expect(license.owner.userId).toEqual(expect.any(String));
    expect(receiver.at(on.path)[0]?.body).not.toContain(license.key);
    await nothingFor(off);
    await unregister(on, off);
  });

  it("license.deactivated for each machine the buyer frees from the library or the seller resets, saying who", async () => {
    const product = await licensed(3);
    const email = "reinstaller@example.com";
    const cookie = await h.signIn(email);
    await buy(product.slug, email, cookie);
    const license = await licenseOf(email);
    for (const fingerprint of ["desk", "laptop", "tablet"])
      expect((await app("activate", { key: license.key, fingerprint })).status).toBe(200);
    const machines = async () =>
      (await (await h.admin(`/api/admin/licenses/${license.id}`)).json()).activations as {
        id: string;
        fingerprint: string;
      }[];
    const desk = (await machines()).find((m) => m.fingerprint === "desk");
    const { on, off } = await watch("license.deactivated");

    const freed = await h.request(`/library/licenses/${license.id}/activations/${desk?.id}/free`, {
      method: "POST",
      cookie,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: PUBLIC_URL },
      body: "",
    });
    expect(freed.status).toBe(303);
    const reset = await h.admin(`/api/admin/licenses/${license.id}/reset`, { method: "POST" });
    expect(reset.status).toBe(200);
    expect(await machines()).toEqual([]);

    const log = await waitFor(async () => {
      const all = await deliveries(on);
      return all.length === 3 && all.every((d) => d.status === "delivered") ? all : null;
    }, "three deactivations");
    expect(log.map((d) => d.type)).toEqual(Array(3).fill("license.deactivated"));
    const told = receiver
      .at(on.path)
      .map((r) => verified(on.secret, r).data as { fingerprint: string; by: string })
      .map(({ fingerprint, by }) => `${fingerprint} by ${by}`)
      .sort();
    expect(told).toEqual(["desk by buyer", "laptop by seller", "tablet by seller"]);
    await nothingFor(off);
    await unregister(on, off);
  });

  it("license.revoked: the seller revokes a key through the admin API, once; the app is refused after", async () => {
    const product = await licensed(2);
    const email = "sharer@example.com";
    await h.grant(email, product.slug);
    const license = await licenseOf(email);
    expect((await app("activate", { key: license.key, fingerprint: "pc" })).status).toBe(200);
    const { on, off } = await watch("license.revoked");

    const from = h.clock.time;
    const revoked = await h.admin(`/api/admin/licenses/${license.id}/revoke`, {
      method: "POST",
      json: { reason: "shared publicly" },
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ status: "revoked", reason: "shared publicly" });
    // Revoking it again changes nothing: no second event, the first reason kept.
    const again = await h.admin(`/api/admin/licenses/${license.id}/revoke`, {
      method: "POST",
      json: { reason: "again" },
    });
    expect(await again.json()).toMatchObject({ status: "revoked", reason: "shared publicly" });
    expect((await app("validate", { key: license.key, fingerprint: "pc" })).body).toMatchObject({
      valid: false,
      code: "revoked",
    });

    const event = await theOnly(on, "license.revoked");
    within(event.timestamp, from);
    expect(event.data).toEqual({
      licenseId: license.id,
      entitlementId: license.entitlementId,
      email,
      userId: null,
      reason: "shared publicly",
      productId: product.id,
      productSlug: product.slug,
    });
    expect(receiver.at(on.path)[0]?.body).not.toContain(license.key);
    // The key is revoked, not the access: no access.revoked either.
    await nothingFor(off);
    expect((await entitlementsOf(email))[0]?.status).toBe("active");
    await unregister(on, off);
  });

  it("license.revoked without a reason says the seller's default", async () => {
    const product = await licensed(1);
    const email = "no-reason@example.com";
    await h.grant(email, product.slug);
    const license = await licenseOf(email);
    const { on, off } = await watch("license.revoked");
    const revoked = await h.admin(`/api/admin/licenses/${license.id}/revoke`, { method: "POST" });
    expect(revoked.status).toBe(200);
    const event = await theOnly(on, "license.revoked");
    expect(event.data.reason).toBe("revoked by the seller");
    await nothingFor(off);
    await unregister(on, off);
  });

  it("an activation refused (over the limit, or on a revoked key) records no license.activated", async () => {
    const product = await licensed(1);
    const email = "limited@example.com";
    await h.grant(email, product.slug);
    const license = await licenseOf(email);
    const { on, off } = await watch("license.activated");

    expect((await app("activate", { key: license.key, fingerprint: "first" })).status).toBe(200);
    const first = await theOnly(on, "license.activated");
    expect(first.data.fingerprint).toBe("first");

    const over = await app("activate", { key: license.key, fingerprint: "second" });
    expect(over).toMatchObject({ status: 409, body: { code: "activation_limit" } });
    const overOffline = await app("offline", { key: license.key, fingerprint: "third" });
    expect(overOffline).toMatchObject({ status: 409, body: { code: "activation_limit" } });

    const revoked = await h.admin(`/api/admin/licenses/${license.id}/revoke`, {
      method: "POST",
      json: { reason: "chargeback elsewhere" },
    });
    expect(revoked.status).toBe(200);
    // Room again on the key, but it is revoked: refused all the same.
    expect((await app("deactivate", { key: license.key, fingerprint: "first" })).status).toBe(200);
    const afterRevoke = await app("activate", { key: license.key, fingerprint: "fourth" });
    expect(afterRevoke).toMatchObject({ status: 403, body: { code: "revoked" } });

    // The refusals answered after their transactions rolled back: the log is final.
    expect((await deliveries(on)).map((d) => d.type)).toEqual(["license.activated"]);
    expect(receiver.at(on.path)).toHaveLength(1);
    expect(
      (await h.admin(`/api/admin/licenses/${license.id}`).then((r) => r.json())).activations,
    ).toEqual([]);
    // The endpoint for everything else heard the revoke and the deactivation, nothing more.
    const others = await waitFor(async () => {
      const log = await deliveries(off);
      return log.length === 2 && log.every((d) => d.status === "delivered") ? log : null;
    }, "the revoke and the deactivation");
    expect(others.map((d) => d.type).sort()).toEqual(["license.deactivated", "license.revoked"]);
    await unregister(on, off);
  });

  it("access.revoked after a lost dispute (charge.dispute.created, then closed lost): once, reason 'dispute lost'; opening it only suspends", async () => {
    const product = await h.productOnSale({ price: { amount: 2500, currency: "usd" } });
    const email = "disputer@example.com";
    const started = await buy(product.slug, email);
    const [entitlement] = await entitlementsOf(email);
    const { on, off } = await watch("access.revoked");

    const dispute = await trigger("/disputes", { id: started.sessionId });
    await waitFor(
      async () => (await entitlementsOf(email))[0]?.status === "suspended",
      "the dispute to suspend the access",
    );
    // Paused, not taken away (docs/webhooks.md: access.revoked is for a lost dispute).
    await nothingFor(on);
    await nothingFor(off);

    const from = h.clock.time;
    await trigger(`/disputes/${dispute.object.id}/close`, { outcome: "lost" });
    const event = await theOnly(on, "access.revoked");
    within(event.timestamp, from);
    expect(event.data).toEqual({
      entitlementId: entitlement?.id,
      email,
      userId: null,
      source: "purchase",
      orderId: started.orderId,
      subscriptionId: null,
      status: "revoked",
      endsAt: null,
      reason: "dispute lost",
      productId: product.id,
      productSlug: product.slug,
    });
    expect((await entitlementsOf(email))[0]?.status).toBe("revoked");
    await nothingFor(off);
    await unregister(on, off);
  });

  it("access.revoked when a subscription ends (customer.subscription.deleted): once, reason 'subscription ended'", async () => {
    const product = await h.productOnSale({
      kind: "subscription",
      interval: "month",
      price: { amount: 900, currency: "usd" },
    });
    const email = "unsubscriber@example.com";
    const started = await buy(product.slug, email);
    const [entitlement] = await entitlementsOf(email);
    const session = await stripe.checkout.sessions.retrieve(started.sessionId);
    const subscriptionId = session.subscription as string;
    expect(subscriptionId).toMatch(/^sub_/);
    const { on, off } = await watch("access.revoked");

    const from = h.clock.time;
    // Cancelled now: the local Stripe sends customer.subscription.deleted, and only that.
    await trigger(`/subscriptions/${started.sessionId}/cancel`);
    const event = await theOnly(on, "access.revoked");
    within(event.timestamp, from);
    const ended = await stripe.subscriptions.retrieve(subscriptionId);
    expect(ended.status).toBe("canceled");
    const incoming = (await (await h.admin("/api/admin/webhook-events")).json()).events as {
      type: string;
      status: string;
    }[];
    expect(incoming[0]).toMatchObject({ type: "customer.subscription.deleted" });
    expect(event.data).toEqual({
      entitlementId: entitlement?.id,
      email,
      userId: null,
      source: "subscription",
      // The access is the subscription's: accessData names no order for it, only subscriptionId.
      orderId: null,
      subscriptionId,
      status: "revoked",
      endsAt: new Date((ended.ended_at as number) * 1000).toISOString(),
      reason: "subscription ended",
      productId: product.id,
      productSlug: product.slug,
    });
    expect((await entitlementsOf(email))[0]?.status).toBe("revoked");
    await nothingFor(off);
    await unregister(on, off);
  });
});
