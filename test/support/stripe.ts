import Stripe from "stripe";
import { silentLogger } from "../../src/adapters/log-console/index.ts";
import { type LocalStripeOptions, startLocalStripe } from "../../src/local-stripe/index.ts";
import { WEBHOOK_SECRET } from "./harness.ts";
import { PATIENCE_MS } from "./patience.ts";

const sdk = new Stripe("sk_test_local");

/** A Stripe-Signature header for this exact body, made by Stripe's own SDK. */
export function signature(
  body: string,
  opts: { secret?: string; timestamp?: number } = {},
): string {
  return sdk.webhooks.generateTestHeaderString({
    payload: body,
    secret: opts.secret ?? WEBHOOK_SECRET,
    timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
  });
}

/** Pays a local Stripe hosted checkout page the way a buyer's browser would post its form. */
export async function payOnHostedPage(
  url: string,
  how: {
    card?: string;
    method?: "card" | "bank_transfer" | "bank_transfer_fail";
    email?: string;
    /** The page's other fields: promotion_code, country, tax_id, amount (src/local-stripe/README.md). */
    fields?: Record<string, string>;
  } = {},
): Promise<Response> {
  const form = new URLSearchParams({
    method: how.method ?? "card",
    card_number: how.card ?? "4242 4242 4242 4242",
    email: how.email ?? "buyer@example.com",
    ...how.fields,
  });
  return fetch(url, {
    method: "POST",
    body: form,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    redirect: "manual",
  });
}

/** Polls until `fn` returns something truthy (webhooks arrive asynchronously). */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A local Stripe for a test, silent and keeping no state file, with the official SDK pointed at
 * it. Without a webhookUrl the test is Stripe's delivery: events go nowhere and are never
 * retried, and the test posts them itself, in the order it chooses.
 */
export async function startTestStripe(
  opts: Partial<Pick<LocalStripeOptions, "webhookUrl" | "retry" | "asyncDelayMs">> = {},
) {
  const stripe = await startLocalStripe({
    port: 0,
    stateFile: null,
    webhookUrl: "http://127.0.0.1:9/nowhere",
    retry: { baseMs: 60_000, maxMs: 60_000, maxAttempts: 1 },
    webhookSecret: WEBHOOK_SECRET,
    log: silentLogger,
    ...opts,
  });
  const { hostname, port } = new URL(stripe.url);
  return { stripe, sdk: new Stripe("sk_test_local", { host: hostname, port, protocol: "http" }) };
}
