import type { Order } from "../../db/schema.ts";
import { holds, isActive } from "../access/accessRule.ts";
import { type Ctx, db } from "../context.ts";
import { notFound, unauthenticated } from "../errors.ts";
import { type OrderCharges, orderCharges } from "./charges.ts";
import { limitCheckoutConfirm } from "./checkoutLimits.ts";
import { orderForViewer } from "./confirmCheckout.ts";
import { entitlementRef } from "./orderState.ts";
import { receiptState } from "./receipts.ts";
import { orderReference } from "./reference.ts";
import { firstDownloadAt } from "./watchdog.ts";

/**
 * The buyer's order status page (decision 0023): where their purchase is, like a parcel
 * tracker. Payment confirmed, receipt sent, first download, each with its time.
 */
export interface OrderTracking {
  orderId: string;
  reference: string;
  productName: string;
  status: Order["status"];
  email: string | null;
  /** When the payment was confirmed; null: not yet. */
  paidAt: number | null;
  /** sending: queued or being retried; not-yet: the payment is not confirmed. */
  receipt: { state: "sent" | "sending" | "bounced" | "not-yet"; at: number | null };
  firstDownloadAt: number | null;
  /** The files to download now: none without access (not paid, refunded, revoked). */
  files: { id: string; filename: string; size: number; downloadUrl: string }[];
  /** What was charged, in `currency` (decision 0029), and the country tax was computed for. */
  charges: OrderCharges;
  currency: string;
  country: string | null;
}

const ORDER_ID = /^ord_[A-Za-z0-9_-]{1,64}$/;

/**
 * The status of the purchase a checkout session id shows (GET /checkout/status?session_id=):
 * the success page's proof, for the same people and the same 24 hours as its downloads. Counted
 * with the success page's checks per client (checkoutLimits.ts) before anything is looked up.
 */
export async function trackCheckout({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sessionId: string; ip?: string | null };
}): Promise<OrderTracking> {
  await limitCheckoutConfirm(ctx, input.ip);
  const order = await orderForViewer(ctx, input.sessionId);
  return tracking(ctx, order, input.sessionId);
}

/**
 * The status of one of the signed-in buyer's orders (GET /library/orders/{id}). An unknown,
 * malformed or someone else's id gets the same 404.
 */
export async function trackMyOrder({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { orderId: string; ip?: string | null };
}): Promise<OrderTracking> {
  const user = ctx.actor.user;
  if (!user) throw unauthenticated("Sign in to see your orders.");
  await limitCheckoutConfirm(ctx, input.ip);
  const none = () => notFound("There is no such order in your library.");
  if (!ORDER_ID.test(input.orderId)) throw none();
  const order = await db(ctx)
    .selectFrom("orders")
    .selectAll()
    .where("id", "=", input.orderId)
    .executeTakeFirst();
  if (!order || !holds({ userId: user.id, email: user.email }, order)) throw none();
  return tracking(ctx, order, null);
}

async function tracking(ctx: Ctx, order: Order, sessionId: string | null): Promise<OrderTracking> {
  const now = ctx.clock.now();
  const facts = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .leftJoin("receipt_queue as q", "q.order_id", "o.id")
    .select([
      "p.name as product_name",
      "p.slug as product_slug",
      "q.order_id as queued",
      firstDownloadAt.as("first_download_at"),
    ])
    .where("o.id", "=", order.id)
    .executeTakeFirstOrThrow();
  const paid = order.paid_at !== null && ["paid", "refunded", "disputed"].includes(order.status);
  const state = receiptState(order);
  const receipt: OrderTracking["receipt"] = !paid
    ? { state: "not-yet", at: null }
    : state === "sent"
      ? { state: "sent", at: Number(order.receipt_delivered_at) }
      : state === "bounced"
        ? { state: "bounced", at: Number(order.receipt_bounced_at) }
        : { state: "sending", at: null };
  const firstDownload = facts.first_download_at === null ? null : Number(facts.first_download_at);
  return {
    orderId: order.id,
    reference: orderReference(order.id),
    productName: facts.product_name,
    status: order.status,
    email: order.email,
    paidAt: paid ? Number(order.paid_at) : null,
    receipt,
    firstDownloadAt: firstDownload,
    files:
      order.status === "paid" ? await files(ctx, order, facts.product_slug, sessionId, now) : [],
    charges: orderCharges(order),
    currency: order.currency,
    country: order.buyer_country,
  };
}

/** The order's files with a link each: the library's when signed in, else the session's. */
async function files(
  ctx: Ctx,
  order: Order,
  slug: string,
  sessionId: string | null,
  now: number,
): Promise<OrderTracking["files"]> {
  const ref = entitlementRef(order);
  const entitlement = ref
    ? await db(ctx)
        .selectFrom("entitlements")
        .select(["status", "starts_at", "ends_at"])
        .where("product_id", "=", order.product_id)
        .where("source", "=", ref.source)
        .where("source_ref", "=", ref.sourceRef)
        .executeTakeFirst()
    : undefined;
  if (!entitlement || !isActive(entitlement, now)) return [];
  const assets = await db(ctx)
    .selectFrom("assets")
    .select(["id", "filename", "size"])
    .where("product_id", "=", order.product_id)
    .where("active", "=", 1)
    .orderBy("filename")
    .execute();
  const base = ctx.settings.publicUrl;
  return assets.map((a) => ({
    id: a.id,
    filename: a.filename,
    size: Number(a.size),
    downloadUrl:
      ctx.actor.user || sessionId === null
        ? `${base}/download/${slug}/${a.id}`
        : `${base}/checkout/download/${a.id}?session_id=${encodeURIComponent(sessionId)}`,
  }));
}
