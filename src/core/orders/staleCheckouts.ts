import { type Ctx, db } from "../context.ts";

const HOUR_MS = 3_600_000;
/**
 * A Stripe Checkout Session lives 24 hours at most (we never ask for longer), then it can no
 * longer be paid and Stripe sends checkout.session.expired. An hour on top leaves that event time
 * to arrive and decide first.
 */
export const STALE_CHECKOUT_MS = 25 * HOUR_MS;
/**
 * Only this recent a history is looked at, so the orders_created index bounds the scan on a large
 * shop: housekeeping runs every 10 minutes, so every order passes through the window many times.
 */
const LOOK_BACK_MS = 14 * 24 * HOUR_MS;

/**
 * Pending orders whose checkout can no longer be paid become abandoned, so checkouts that were
 * started and never paid (by buyers who changed their minds, or by a script) leave the seller's
 * "pending" lists even when the checkout.session.expired event never arrives (not subscribed,
 * lost, or a payment provider that sends none).
 *
 * Only an order whose checkout never completed is touched: no payment intent and no
 * subscription recorded, which the provider's completion would have brought. A completed
 * checkout waiting for a bank transfer keeps its pending status for as long as that takes.
 * Abandoning uses the same monotonic transition as the expiry event (pending -> abandoned only),
 * and a payment confirmed later still wins: paid may follow abandoned, so a late webhook, a sync
 * or `reconcile` fulfils the order as usual.
 */
export async function abandonStaleCheckouts({ ctx }: { ctx: Ctx }): Promise<number> {
  const now = ctx.clock.now();
  const result = await db(ctx)
    .updateTable("orders")
    .set({ status: "abandoned", updated_at: now })
    .where("status", "=", "pending")
    .where("created_at", "<=", now - STALE_CHECKOUT_MS)
    .where("created_at", ">", now - LOOK_BACK_MS)
    .where("payment_intent_id", "is", null)
    .where("subscription_id", "is", null)
    .executeTakeFirst();
  const abandoned = Number(result.numUpdatedRows);
  if (abandoned) ctx.log.info("unpaid checkouts abandoned", { orders: abandoned });
  return abandoned;
}
