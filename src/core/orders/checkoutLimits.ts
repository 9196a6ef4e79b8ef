import type { Ctx } from "../context.ts";
import { hitRateLimit } from "../identity/rateLimit.ts";

/**
 * Per-client limits on the checkout endpoints anyone may call, counted in the database (so every
 * process shares them). Each started checkout records an order and makes a Stripe Checkout
 * Session; each confirmation may ask Stripe about a session.
 *
 * - Starting a checkout: 20 per client in 10 minutes. A buyer who changes their mind a few times
 *   stays far below it; a script is stopped at 20.
 * - Confirming one (`POST /api/checkout/sync` and `GET /checkout/success`, one shared count): 40
 *   per client a minute. The "Confirming your payment" page polls after 1, 2, 3 ... 10 s and then
 *   every 10 s (about 10 checks in its first minute, 6 a minute after that; without JavaScript it
 *   reloads every 5 s, 12 a minute), so a buyer who also reloads the page several times a minute
 *   stays well inside it, while a client trying made-up session ids is refused after 40.
 *
 * Requests whose client address is unknown (no socket address, no CF-Connecting-IP; a deployed
 * runtime always has one) count together in one shared bucket with twice the room (40 checkouts
 * in 10 minutes, 80 checks a minute): "unknown" is never a way around the limit, and a runtime
 * that cannot tell its clients apart still sells, though all its buyers share that room. The
 * shop's own operator (the admin token, or an admin's session) is not limited: its scripts may
 * start as many checkouts as they need.
 */
export const CHECKOUT_LIMITS = {
  start: { perClient: 20, unknownClients: 40, windowSeconds: 10 * 60 },
  confirm: { perClient: 40, unknownClients: 80, windowSeconds: 60 },
} as const;

/** Not an address, so no client's own bucket can be it. */
const UNKNOWN_CLIENT = "unknown";

/** Counts one started checkout for this client; throws rate_limited (429) past the limit. */
export async function limitCheckoutStart(ctx: Ctx, ip: string | null | undefined): Promise<void> {
  if (ctx.actor.admin) return;
  const { perClient, unknownClients, windowSeconds } = CHECKOUT_LIMITS.start;
  await hitRateLimit(
    ctx,
    `checkout:start:ip:${ip || UNKNOWN_CLIENT}`,
    ip ? perClient : unknownClients,
    windowSeconds,
    "Too many checkouts were started from your network. Please wait a few minutes and try again.",
  );
}

/** Counts one payment check (sync or success page) for this client; 429 past the limit. */
export async function limitCheckoutConfirm(ctx: Ctx, ip: string | null | undefined): Promise<void> {
  if (ctx.actor.admin) return;
  const { perClient, unknownClients, windowSeconds } = CHECKOUT_LIMITS.confirm;
  await hitRateLimit(
    ctx,
    `checkout:confirm:ip:${ip || UNKNOWN_CLIENT}`,
    ip ? perClient : unknownClients,
    windowSeconds,
    "Too many payment checks from your network. Please wait a minute, then reload this page.",
  );
}
