import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Stripe from "stripe";
import { silentLogger } from "../../src/adapters/log-console/index.ts";
import { type LocalStripeOptions, startLocalStripe } from "../../src/local-stripe/index.ts";
import { PATIENCE_MS } from "../support/patience.ts";

export const SECRET = "whsec_dGVzdC1sb2NhbC1zdHJpcGUtc2VjcmV0";

/** The official SDK pointed at a local Stripe, as Tollgate points it. */
export function sdk(url: string): Stripe {
  const { hostname, port } = new URL(url);
  return new Stripe("sk_test_local", { host: hostname, port, protocol: "http" });
}

const verifier = new Stripe("sk_test_verifier");

export interface Received {
  event: Stripe.Event;
  raw: string;
  signature: string;
}

/**
 * A webhook endpoint that checks every delivery with `stripe.webhooks.constructEvent`, like
 * Tollgate does, and answers with `status(attempt)` (200 by default).
 */
export async function webhookEndpoint(
  opts: { port?: number; status?: (attempt: number) => number; secret?: () => string } = {},
) {
  const received: Received[] = [];
  const rejected: string[] = [];
  let attempts = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      attempts++;
      const raw = Buffer.concat(chunks).toString("utf8");
      const signature = String(req.headers["stripe-signature"] ?? "");
      const status = opts.status?.(attempts) ?? 200;
      try {
        const event = verifier.webhooks.constructEvent(raw, signature, opts.secret?.() ?? SECRET);
        if (status >= 200 && status < 300) received.push({ event, raw, signature });
      } catch (error) {
        rejected.push(String(error));
        res.writeHead(400).end();
        return;
      }
      res.writeHead(status, { "content-type": "text/plain" }).end(String(status));
    });
  });
  await new Promise<void>((done) => server.listen(opts.port ?? 0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    rejected,
    attempts: () => attempts,
    types: () => received.map((r) => r.event.type),
    /** Resolves once `count` events have been accepted. */
    waitForCount: (count: number) =>
      waitFor(() => received.length >= count, `${count} webhook events`).then(() =>
        received.slice(0, count),
      ),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export type Endpoint = Awaited<ReturnType<typeof webhookEndpoint>>;

/** A local Stripe on a free port, quiet, with fast retries. */
export async function localStripe(webhookUrl: string, overrides: Partial<LocalStripeOptions> = {}) {
  const started = await startLocalStripe({
    port: 0,
    stateFile: null,
    webhookUrl,
    webhookSecret: SECRET,
    asyncDelayMs: 100,
    retry: { baseMs: 50, maxMs: 400 },
    log: silentLogger,
    ...overrides,
  });
  return { ...started, stripe: sdk(started.url) };
}

export const tempStateFile = () =>
  join(mkdtempSync(join(tmpdir(), "tollgate-local-stripe-")), "local-stripe.json");

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = PATIENCE_MS,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What Tollgate's checkout route sends (src/adapters/stripe/index.ts). */
export function paymentSession(
  stripe: Stripe,
  extra: Partial<Stripe.Checkout.SessionCreateParams> = {},
) {
  return stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [
      {
        quantity: 1,
        price_data: { currency: "usd", unit_amount: 1900, product_data: { name: "Starter Kit" } },
      },
    ],
    metadata: { order: "ord_123" },
    payment_intent_data: { metadata: { order: "ord_123" } },
    client_reference_id: "ord_123",
    customer_email: "buyer@example.com",
    success_url: "http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://shop.test/p/starter-kit",
    ...extra,
  });
}

export function subscriptionSession(stripe: Stripe) {
  return stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [
      {
        quantity: 1,
        price_data: {
          currency: "eur",
          unit_amount: 900,
          recurring: { interval: "month" },
          product_data: { name: "Pro Club" },
        },
      },
    ],
    metadata: { order: "ord_sub" },
    subscription_data: { metadata: { order: "ord_sub" } },
    client_reference_id: "ord_sub",
    success_url: "http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://shop.test/p/pro-club",
  });
}

/** Submits the hosted checkout form the way a browser does. */
export function submitCheckout(
  session: { url: string | null; id: string },
  fields: Record<string, string>,
) {
  return fetch(session.url ?? "", {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: "buyer@example.com", ...fields }),
  });
}

export const payByCard = (session: { url: string | null; id: string }) =>
  submitCheckout(session, { method: "card", card_number: "4242 4242 4242 4242" });

export interface TriggerAnswer<T> {
  message: string;
  events: string[];
  object: T;
  error?: { message: string };
}

/** POSTs a local trigger (`/_local/...`). */
export async function trigger<T = { id: string }>(
  url: string,
  path: string,
  body: Record<string, unknown> = {},
) {
  const response = await fetch(`${url}/_local${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as TriggerAnswer<T> };
}

/** Stripe's example objects the local Stripe builds from, by object type. */
export const fixtures = (
  JSON.parse(
    readFileSync(new URL("../../src/local-stripe/fixtures.json", import.meta.url), "utf8"),
  ) as { resources: Record<string, Record<string, unknown>> }
).resources;

/** Every field of Stripe's example object is present (values may differ). */
export function missingFields(object: object, type: string): string[] {
  const example = fixtures[type] ?? {};
  return Object.keys(example).filter((key) => !(key in object));
}
