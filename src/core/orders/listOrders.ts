import { type Ctx, db, requireAdmin } from "../context.ts";
import { isoTime as iso } from "../encoding.ts";

/** Orders, newest first. Orders are written by checkout and the Stripe webhooks. */
export async function listOrders({ ctx, input }: { ctx: Ctx; input: { limit: number } }) {
  requireAdmin(ctx);
  const rows = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .selectAll("o")
    .select("p.slug as product_slug")
    .orderBy("o.created_at", "desc")
    .limit(input.limit)
    .execute();
  return rows.map((o) => ({
    id: o.id,
    product: o.product_slug,
    status: o.status,
    email: o.email,
    userId: o.user_id,
    amount: o.amount,
    currency: o.currency,
    checkoutSessionId: o.checkout_session_id,
    paymentIntentId: o.payment_intent_id,
    subscriptionId: o.subscription_id,
    flag: o.flag,
    createdAt: iso(o.created_at),
    updatedAt: iso(o.updated_at),
  }));
}
