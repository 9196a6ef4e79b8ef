import type { Entitlement, Order, Product } from "../../db/schema.ts";
import { productById } from "../catalog/products.ts";
import { type Ctx, db, requireAdmin } from "../context.ts";
import { notFound } from "../errors.ts";
import { entitlementRef, findOrder } from "./orderState.ts";
import { type ReceiptState, receiptState } from "./receipts.ts";

export interface OrderDetails {
  order: Order;
  product: Product;
  /** The signed-in buyer's account email, when the order was placed signed in. */
  userEmail: string | null;
  /** What became of the receipt (bounced: order.receipt_bounce_reason says why). */
  receipt: ReceiptState;
  /** The access this order granted (one entitlement, or none while unpaid). */
  entitlements: Entitlement[];
  /** Recorded Stripe events that name this order or its payment, newest first. */
  events: { id: string; type: string; status: string; error: string | null; receivedAt: number }[];
}

const EVENT_LIMIT = 20;

/** Everything the seller may want to know about one order. */
export async function orderDetails({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { orderId: string };
}): Promise<OrderDetails> {
  requireAdmin(ctx);
  const order = await findOrder(ctx, { orderId: input.orderId });
  if (!order) throw notFound("There is no such order.");
  const ref = entitlementRef(order);
  const [product, user, entitlements, events] = await Promise.all([
    productById(ctx, order.product_id),
    order.user_id
      ? db(ctx)
          .selectFrom("users")
          .select("email")
          .where("id", "=", order.user_id)
          .executeTakeFirst()
      : undefined,
    ref
      ? db(ctx)
          .selectFrom("entitlements")
          .selectAll()
          .where("product_id", "=", order.product_id)
          .where("source", "=", ref.source)
          .where("source_ref", "=", ref.sourceRef)
          .execute()
      : [],
    eventsAbout(ctx, order),
  ]);
  return {
    order,
    product,
    userEmail: user?.email ?? null,
    receipt: receiptState(order),
    entitlements,
    events,
  };
}

/**
 * Events carry our order id in their metadata, or the provider's ids we recorded. Stored
 * payloads are not indexed, so the search only looks at events received since the order began.
 */
async function eventsAbout(ctx: Ctx, order: Order) {
  const needles = [
    order.id,
    order.checkout_session_id,
    order.payment_intent_id,
    order.subscription_id,
  ]
    .filter((id): id is string => Boolean(id))
    .map((id) => `%"${id}"%`);
  const rows = await db(ctx)
    .selectFrom("webhook_events")
    .select(["id", "type", "status", "error", "received_at"])
    .where("received_at", ">=", order.created_at)
    .where((eb) => eb.or(needles.map((n) => eb("payload", "like", n))))
    .orderBy("received_at", "desc")
    .limit(EVENT_LIMIT)
    .execute();
  return rows.map((e) => ({
    id: e.id,
    type: e.type,
    status: e.status,
    error: e.error,
    receivedAt: e.received_at,
  }));
}
