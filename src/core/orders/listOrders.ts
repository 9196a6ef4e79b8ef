import type { Order, OrderStatus } from "../../db/schema.ts";
import { type Ctx, db, normalizeEmail, requireAdmin } from "../context.ts";
import { isoTime as iso } from "../encoding.ts";
import { limitSchema, parseInput } from "../validate.ts";
import { receiptState } from "./receipts.ts";

export interface ListOrdersInput {
  /** 1 to 1000, 100 when not given; a query's text is read as a number. */
  limit?: number | string | undefined;
  status?: OrderStatus;
  /** The buyer's email, exactly (case and spaces aside). */
  email?: string;
  /** An order id: only orders older than it (the next page). */
  before?: string;
  /** "bounced": only orders whose receipt bounced, the latest bounce first. */
  receipt?: "bounced";
}

/** Orders, newest first. Orders are written by checkout and the Stripe webhooks. */
export async function listOrders({ ctx, input }: { ctx: Ctx; input: ListOrdersInput }) {
  requireAdmin(ctx);
  const limit = parseInput(limitSchema, input.limit);
  let query = db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .selectAll("o")
    .select("p.slug as product_slug");
  if (input.status) query = query.where("o.status", "=", input.status);
  if (input.email) query = query.where("o.email", "=", normalizeEmail(input.email));
  if (input.receipt === "bounced") {
    const bounces = await query
      .where("o.receipt_bounced_at", "is not", null)
      .orderBy("o.receipt_bounced_at", "desc")
      .orderBy("o.id", "desc")
      .limit(limit)
      .execute();
    return bounces.map(summary).filter((o) => o.receipt === "bounced");
  }
  if (input.before) {
    const cursor = await db(ctx)
      .selectFrom("orders")
      .select(["id", "created_at"])
      .where("id", "=", input.before)
      .executeTakeFirst();
    if (cursor)
      query = query.where((eb) =>
        eb.or([
          eb("o.created_at", "<", cursor.created_at),
          eb.and([eb("o.created_at", "=", cursor.created_at), eb("o.id", "<", cursor.id)]),
        ]),
      );
  }
  const rows = await query
    .orderBy("o.created_at", "desc")
    .orderBy("o.id", "desc")
    .limit(limit)
    .execute();
  return rows.map(summary);
}

type OrderRow = Order & { product_slug: string };

function summary(o: OrderRow) {
  const receipt = receiptState(o);
  return {
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
    receipt,
    /** When and why the receipt bounced; null unless it did. */
    receiptBounce:
      receipt === "bounced"
        ? { at: iso(o.receipt_bounced_at), reason: o.receipt_bounce_reason ?? "" }
        : null,
    createdAt: iso(o.created_at),
    updatedAt: iso(o.updated_at),
  };
}
