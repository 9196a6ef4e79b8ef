import { type Ctx, requireAdmin } from "../context.ts";
import { AppError, conflict, notFound, unavailable } from "../errors.ts";
import { findOrder } from "./orderState.ts";

/**
 * Asks the payment provider to refund a paid one-time order in full. Nothing changes here: the
 * provider's `charge.refunded` event marks the order refunded and ends access through the one
 * fulfilment path, so the shop never says "refunded" for money that was not returned.
 */
export async function refundOrder({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { orderId: string };
}): Promise<{ orderId: string; paymentIntentId: string }> {
  requireAdmin(ctx);
  const order = await findOrder(ctx, { orderId: input.orderId });
  if (!order) throw notFound("There is no such order.");
  if (order.subscription_id)
    throw conflict(
      "This order is a subscription. Cancel or refund it in Stripe's dashboard; access follows when Stripe tells the shop.",
    );
  if (order.status === "refunded") throw conflict("This order has already been refunded.");
  if (order.status !== "paid")
    throw conflict(`Only a paid order can be refunded; this order is ${order.status}.`);
  if (!order.payment_intent_id)
    throw conflict("Nothing was charged for this order, so there is nothing to refund.");
  try {
    await ctx.payments.refund(order.payment_intent_id);
  } catch (error) {
    // A refusal comes as conflict with the provider's reason; anything else is an outage.
    if (error instanceof AppError) throw error;
    ctx.log.error("refund failed", { orderId: order.id, error: String(error) });
    throw unavailable(
      "Stripe could not be reached, so the refund may not have been made. Look at the order again in a minute before trying again.",
    );
  }
  ctx.log.info("refund requested", { orderId: order.id, paymentIntentId: order.payment_intent_id });
  return { orderId: order.id, paymentIntentId: order.payment_intent_id };
}
