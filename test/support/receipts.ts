import { grantAccess } from "../../src/core/access/entitlements.ts";
import type { Harness } from "./harness.ts";

/**
 * A paid order whose receipt was queued, as the payment's transaction leaves it, and, unless
 * `grant` is false, the purchase's entitlement (returned).
 */
export async function paidOrderWithQueuedReceipt(
  h: Harness,
  id: string,
  productId: string,
  buyer: { email?: string; userId?: string },
  grant = true,
) {
  const now = h.clock.now();
  await h.deps.db
    .insertInto("orders")
    .values({
      id,
      product_id: productId,
      checkout_session_id: `cs_${id}`,
      payment_intent_id: `pi_${id}`,
      subscription_id: null,
      customer_id: null,
      email: buyer.email ?? null,
      user_id: buyer.userId ?? null,
      amount: 1900,
      currency: "usd",
      status: "paid",
      flag: null,
      receipt_sent_at: now,
      receipt_delivered_at: null,
      receipt_bounced_at: null,
      receipt_bounce_reason: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await h.deps.db
    .insertInto("receipt_queue")
    .values({
      order_id: id,
      due_at: now,
      lease_until: null,
      attempts: 0,
      last_error: null,
      created_at: now,
    })
    .execute();
  if (!grant) return null;
  return grantAccess({
    ctx: h.ctx,
    input: { productId, owner: buyer, source: "purchase", sourceRef: id },
  });
}
