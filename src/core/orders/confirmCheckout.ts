import type { Asset, Order, Product } from "../../db/schema.ts";
import { holds, isActive } from "../access/accessRule.ts";
import { productById } from "../catalog/products.ts";
import { type Ctx, db, withTransaction } from "../context.ts";
import { forbidden, gone, notFound, unauthenticated } from "../errors.ts";
import type { CheckoutView } from "../ports.ts";
import { stampsQueued } from "../stamping/stamps.ts";
import { limitCheckoutConfirm } from "./checkoutLimits.ts";
import { fulfil } from "./fulfil.ts";
import { entitlementRef, findOrder } from "./orderState.ts";
import { receiptsQueued } from "./receipts.ts";

/** A guest may use the session id from the success URL for this long; then the library. */
export const GUEST_WINDOW_MS = 24 * 3600 * 1000;
const SESSION_SHAPE = /^cs_[A-Za-z0-9_]{10,200}$/;
/**
 * How long the success page waits for the provider's answer. Past that it says "confirming" and
 * the webhook decides, instead of holding the buyer's page through the SDK's timeouts and retries.
 */
export const PROVIDER_WAIT_MS = 5000;

export type CheckoutStatus = "paid" | "pending" | "unpaid" | "expired" | "failed" | "refunded";

export interface CheckoutConfirmation {
  status: CheckoutStatus;
  order: Order;
  product: Product;
  files: { id: string; filename: string; size: number; downloadUrl: string }[];
  /** False when the provider could not be asked: the answer is what the webhooks told us. */
  confirmedWithProvider: boolean;
}

/**
 * The success page's server-side confirmation: ask the provider about the session and, when it
 * is paid, fulfil through the same path as the webhook (idempotent), so the buyer can download
 * at once. The session id is the buyer's proof for 24 hours; a signed-in stranger gets a 403.
 * Limited per client (`ip`, null when unknown; see checkoutLimits.ts) before anything is looked
 * up, so made-up session ids cannot be tried in bulk nor make us call the provider at will.
 */
export async function confirmCheckout({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sessionId: string; ip?: string | null };
}): Promise<CheckoutConfirmation> {
  await limitCheckoutConfirm(ctx, input.ip);
  let order = await orderForViewer(ctx, input.sessionId);
  let checkout: CheckoutView | null = null;
  try {
    checkout = await within(PROVIDER_WAIT_MS, ctx.payments.retrieveCheckout(input.sessionId));
  } catch (error) {
    // The order id, not the session id: that is the buyer's proof of purchase.
    ctx.log.warn("checkout sync: provider unreachable", {
      orderId: order.id,
      error: String(error),
    });
  }
  if (
    checkout &&
    (checkout.paymentStatus === "paid" || checkout.paymentStatus === "no_payment_required")
  ) {
    const paid = checkout;
    // Stripe's word that the session is paid is what grants access, as a webhook's would.
    const { receiptQueued } = await withTransaction({ ...ctx, cause: `stripe:${paid.id}` }, (tx) =>
      fulfil(tx, { kind: "checkout_completed", checkout: paid }),
    );
    await receiptsQueued(ctx, [receiptQueued]);
    if (receiptQueued) stampsQueued(ctx);
    order = await db(ctx)
      .selectFrom("orders")
      .selectAll()
      .where("id", "=", order.id)
      .executeTakeFirstOrThrow();
  }
  const product = await productById(ctx, order.product_id);
  const status = statusOf(order, checkout);
  const files = status === "paid" ? await filesFor(ctx, order, product, input.sessionId) : [];
  return { status, order, product, files, confirmedWithProvider: checkout !== null };
}

/** The promise's result, or a rejection once `ms` have passed without one. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The order a checkout session id shows: to its buyer when signed in (or the admin), to anyone
 * holding the id for GUEST_WINDOW_MS otherwise.
 */
export async function orderForViewer(ctx: Ctx, sessionId: string): Promise<Order> {
  const order = SESSION_SHAPE.test(sessionId) ? await findOrder(ctx, { sessionId }) : undefined;
  if (!order) throw notFound("There is no such checkout.");
  const user = ctx.actor.user;
  if (user) {
    const mine = holds({ userId: user.id, email: user.email }, order);
    if (!mine && !ctx.actor.admin) throw forbidden("This purchase belongs to another account.");
    return order;
  }
  if (ctx.clock.now() - order.created_at > GUEST_WINDOW_MS) {
    throw order.email
      ? // Whoever holds an old session id must not learn the buyer's address from it.
        unauthenticated("Sign in with the email you used at checkout to find this purchase.")
      : gone("This confirmation link has expired.");
  }
  return order;
}

function statusOf(order: Order, checkout: CheckoutView | null): CheckoutStatus {
  if (order.status === "paid") return "paid";
  if (order.status === "refunded" || order.status === "disputed") return "refunded";
  if (order.status === "failed") return "failed";
  if (order.status === "abandoned" || checkout?.status === "expired") return "expired";
  if (checkout?.status === "complete" || !checkout) return "pending";
  return "unpaid";
}

async function filesFor(
  ctx: Ctx,
  order: Order,
  product: Product,
  sessionId: string,
): Promise<CheckoutConfirmation["files"]> {
  const ref = entitlementRef(order);
  const entitlement = ref
    ? await db(ctx)
        .selectFrom("entitlements")
        .selectAll()
        .where("product_id", "=", order.product_id)
        .where("source", "=", ref.source)
        .where("source_ref", "=", ref.sourceRef)
        .executeTakeFirst()
    : undefined;
  if (!entitlement || !isActive(entitlement, ctx.clock.now())) return [];
  const assets: Asset[] = await db(ctx)
    .selectFrom("assets")
    .selectAll()
    .where("product_id", "=", product.id)
    .where("active", "=", 1)
    .orderBy("filename")
    .execute();
  const base = ctx.settings.publicUrl;
  const signedInOwner = ctx.actor.user !== null;
  return assets.map((a) => ({
    id: a.id,
    filename: a.filename,
    size: a.size,
    downloadUrl: signedInOwner
      ? `${base}/download/${product.slug}/${a.id}`
      : `${base}/checkout/download/${a.id}?session_id=${encodeURIComponent(sessionId)}`,
  }));
}
