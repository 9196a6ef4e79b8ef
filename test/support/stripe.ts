import Stripe from "stripe";
import { WEBHOOK_SECRET } from "./harness.ts";

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
  } = {},
): Promise<Response> {
  const form = new URLSearchParams({
    method: how.method ?? "card",
    card_number: how.card ?? "4242 4242 4242 4242",
    email: how.email ?? "buyer@example.com",
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
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
