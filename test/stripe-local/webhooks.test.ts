import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { signatureHeader } from "../../src/local-stripe/index.ts";
import { freePort } from "../support/server.ts";
import {
  localStripe,
  paymentSession,
  SECRET,
  submitCheckout,
  tempStateFile,
  waitFor,
  webhookEndpoint,
} from "./support.ts";

/** Delivery like Stripe's: signed, retried with backoff, and kept across restarts. */

const verifier = new Stripe("sk_test_verifier");

describe("signatures", () => {
  it("are the header stripe.webhooks.constructEvent verifies", () => {
    const payload = JSON.stringify({ id: "evt_1", object: "event", type: "charge.succeeded" });
    const timestamp = Math.floor(Date.now() / 1000);
    const header = signatureHeader(payload, SECRET, timestamp);
    expect(header).toBe(
      verifier.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp }),
    );
    expect(verifier.webhooks.constructEvent(payload, header, SECRET).id).toBe("evt_1");
    expect(() => verifier.webhooks.constructEvent(payload, header, "whsec_other")).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it("arrive on every delivery, with Stripe's headers", async () => {
    const endpoint = await webhookEndpoint();
    const local = await localStripe(endpoint.url);
    try {
      const session = await paymentSession(local.stripe);
      await local.stripe.checkout.sessions.expire(session.id);
      const [delivery] = await endpoint.waitForCount(1);
      expect(endpoint.rejected).toEqual([]);
      const body = JSON.parse(delivery?.raw ?? "{}") as Stripe.Event;
      expect(body).toMatchObject({
        object: "event",
        type: "checkout.session.expired",
        api_version: Stripe.API_VERSION,
        livemode: false,
        pending_webhooks: 1,
        data: { object: { id: session.id, status: "expired" } },
      });
      expect(body.request?.id).toMatch(/^req_/);
      // Once delivered, the event no longer waits for any endpoint.
      await waitFor(
        async () => (await local.stripe.events.retrieve(body.id)).pending_webhooks === 0,
        "pending_webhooks to drop to 0",
      );
    } finally {
      await local.close();
      await endpoint.close();
    }
  });
});

describe("retries", () => {
  it("retries a 500 with backoff and delivers on the third attempt", async () => {
    const endpoint = await webhookEndpoint({ status: (n) => (n <= 2 ? 500 : 200) });
    const local = await localStripe(endpoint.url, { retry: { baseMs: 60, maxMs: 1000 } });
    try {
      const started = Date.now();
      const session = await paymentSession(local.stripe);
      await local.stripe.checkout.sessions.expire(session.id);
      const [delivery] = await endpoint.waitForCount(1);
      expect(endpoint.attempts()).toBe(3);
      expect(delivery?.event.type).toBe("checkout.session.expired");
      // 60 ms, then 120 ms: exponential backoff from baseMs.
      expect(Date.now() - started).toBeGreaterThanOrEqual(170);
    } finally {
      await local.close();
      await endpoint.close();
    }
  });

  it("an event being retried does not hold up the ones after it", async () => {
    const endpoint = await webhookEndpoint({ status: (n) => (n === 1 ? 503 : 200) });
    const local = await localStripe(endpoint.url);
    try {
      const session = await paymentSession(local.stripe);
      await submitCheckout(session, { method: "card", card_number: "4242424242424242" });
      const received = await endpoint.waitForCount(3);
      const types = received.map((r) => r.event.type);
      // The failed payment_intent.succeeded waits on its backoff; the next event goes at once.
      expect(types[0]).toBe("charge.succeeded");
      expect([...types].sort()).toEqual([
        "charge.succeeded",
        "checkout.session.completed",
        "payment_intent.succeeded",
      ]);
      expect(endpoint.attempts()).toBe(4);
    } finally {
      await local.close();
      await endpoint.close();
    }
  });
});

describe("restarts", () => {
  it("delivers what the app missed while it was down, after the local Stripe restarts", async () => {
    const stateFile = tempStateFile();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/webhooks/stripe`;
    const first = await localStripe(url, { stateFile, retry: { baseMs: 30, maxMs: 60 } });
    const session = await paymentSession(first.stripe);
    await first.stripe.checkout.sessions.expire(session.id);
    // Nobody listens yet: the delivery fails and stays queued in the state file.
    await waitFor(() => {
      const state = JSON.parse(readFileSync(stateFile, "utf8"));
      return state.deliveries[0]?.attempts >= 2;
    }, "two failed attempts");
    await first.close();

    const endpoint = await webhookEndpoint({ port });
    const second = await localStripe(url, { stateFile, retry: { baseMs: 30, maxMs: 60 } });
    try {
      const [delivery] = await endpoint.waitForCount(1);
      expect(delivery?.event.type).toBe("checkout.session.expired");
      expect(delivery?.event.data.object).toMatchObject({ id: session.id });
      // The objects survived too.
      expect((await second.stripe.checkout.sessions.retrieve(session.id)).status).toBe("expired");
      const saved = () => JSON.parse(readFileSync(stateFile, "utf8"));
      await waitFor(() => saved().deliveries.length === 0, "the queue to empty");
      expect(saved().events).toHaveLength(1);
    } finally {
      await second.close();
      await endpoint.close();
    }
  });

  it("settles a bank transfer that was pending when the local Stripe stopped", async () => {
    const stateFile = tempStateFile();
    const endpoint = await webhookEndpoint();
    const first = await localStripe(endpoint.url, { stateFile, asyncDelayMs: 300 });
    const session = await paymentSession(first.stripe);
    await submitCheckout(session, { method: "bank_transfer" });
    await endpoint.waitForCount(1);
    await first.close();

    const second = await localStripe(endpoint.url, { stateFile, asyncDelayMs: 300 });
    try {
      const received = await endpoint.waitForCount(4);
      expect(received.map((r) => r.event.type)).toEqual([
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.async_payment_succeeded",
      ]);
      expect((await second.stripe.checkout.sessions.retrieve(session.id)).payment_status).toBe(
        "paid",
      );
    } finally {
      await second.close();
      await endpoint.close();
    }
  });
});
