import { type ExpressionBuilder, sql } from "kysely";
import type { Database, Order, OrderStatus, OrdersTable } from "../../db/schema.ts";
import { type Ctx, db, normalizeEmail, requireAdmin } from "../context.ts";
import { isoTime as iso } from "../encoding.ts";
import { limitSchema, parseInput } from "../validate.ts";
import { orderCharges, orderTaxIds } from "./charges.ts";
import { receiptState } from "./receipts.ts";
import { orderIdStart, orderReference } from "./reference.ts";

export interface ListOrdersInput {
  /** 1 to 1000, 100 when not given; a query's text is read as a number. */
  limit?: number | string | undefined;
  status?: OrderStatus;
  /** The buyer's email, exactly (case and spaces aside). */
  email?: string;
  /** An order's reference ("7KQ4M-2ZPXA", as receipts give it): that order. */
  reference?: string;
  /** An order id: only orders older than it (the next page). */
  before?: string;
  /** "bounced": only orders whose receipt bounced, the latest bounce first. */
  receipt?: "bounced";
  /**
   * "completed": leave out checkouts that were started and never completed (still open, or
   * abandoned); "unfinished": only those. They carry no payment and, for a guest, no customer.
   */
  checkout?: "completed" | "unfinished";
}

/** Orders, newest first. Orders are written by checkout and the Stripe webhooks. */
export async function listOrders(args: { ctx: Ctx; input: ListOrdersInput }) {
  return (await orderRows(args)).map(summary);
}

/** For the seller's pages: listOrders, each order naming its product too. */
export async function listOrdersWithNames(args: { ctx: Ctx; input: ListOrdersInput }) {
  return (await orderRows(args)).map((o) => ({ ...summary(o), productName: o.product_name }));
}

/**
 * How many checkouts were started and not completed (open or abandoned) since `sinceMs`, for
 * the orders page's note on what its default list leaves out.
 */
export async function countUnfinishedCheckouts({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sinceMs: number; email?: string };
}): Promise<number> {
  requireAdmin(ctx);
  let query = db(ctx)
    .selectFrom("orders as o")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("o.created_at", ">=", input.sinceMs)
    .where((eb) => eb.or(unfinished(eb)));
  if (input.email) query = query.where("o.email", "=", normalizeEmail(input.email));
  return Number((await query.executeTakeFirstOrThrow()).count);
}

/** Never completed: abandoned, or pending with nothing the provider's completion brings. */
function unfinished(eb: ExpressionBuilder<Database & { o: OrdersTable }, "o">) {
  return [
    eb("o.status", "=", "abandoned"),
    eb.and([
      eb("o.status", "=", "pending"),
      eb("o.payment_intent_id", "is", null),
      eb("o.subscription_id", "is", null),
    ]),
  ];
}

async function orderRows({ ctx, input }: { ctx: Ctx; input: ListOrdersInput }) {
  requireAdmin(ctx);
  const limit = parseInput(limitSchema, input.limit);
  let query = db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .selectAll("o")
    .select(["p.slug as product_slug", "p.name as product_name"]);
  if (input.status) query = query.where("o.status", "=", input.status);
  if (input.email) query = query.where("o.email", "=", normalizeEmail(input.email));
  if (input.reference !== undefined) {
    const start = orderIdStart(input.reference);
    if (!start) return [];
    query = query.where(sql<string>`substr(${sql.ref("o.id")}, 1, ${start.length})`, "=", start);
  }
  if (input.checkout === "unfinished") query = query.where((eb) => eb.or(unfinished(eb)));
  if (input.checkout === "completed") query = query.where((eb) => eb.not(eb.or(unfinished(eb))));
  if (input.receipt === "bounced") {
    const bounces = await query
      .where("o.receipt_bounced_at", "is not", null)
      .orderBy("o.receipt_bounced_at", "desc")
      .orderBy("o.id", "desc")
      .limit(limit)
      .execute();
    return bounces.filter((o) => receiptState(o) === "bounced");
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
  return query.orderBy("o.created_at", "desc").orderBy("o.id", "desc").limit(limit).execute();
}

type OrderRow = Order & { product_slug: string };

function summary(o: OrderRow) {
  const receipt = receiptState(o);
  return {
    id: o.id,
    /** What the buyer's receipt calls the order. */
    reference: orderReference(o.id),
    product: o.product_slug,
    status: o.status,
    email: o.email,
    userId: o.user_id,
    amount: o.amount,
    currency: o.currency,
    /** What was charged: the amount less the discount, plus any tax added (decision 0029). */
    ...orderCharges(o),
    taxIds: orderTaxIds(o),
    country: o.buyer_country,
    invoiceId: o.invoice_id,
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
