import { sql } from "kysely";
import type { Entitlement, Order } from "../../db/schema.ts";
import { accessStatus, isActive } from "../access/accessRule.ts";
import { accessData } from "../access/entitlements.ts";
import { recordAccessChange, recordExpiryIfPassed } from "../access/history.ts";
import { productById } from "../catalog/products.ts";
import { type Ctx, db, normalizeEmail, requireAdmin, system, withTransaction } from "../context.ts";
import { mailFreshLink } from "../delivery/freshLink.ts";
import { createDownloadToken } from "../delivery/tokens.ts";
import { durationText, parseDuration } from "../duration.ts";
import { conflict, notFound } from "../errors.ts";
import { type InputOf, parseInput } from "../validate.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";
import * as z from "../zod.ts";
import { entitlementRef, findOrder } from "./orderState.ts";
import { orderIdStart, orderReference } from "./reference.ts";

const YEAR_SECONDS = 365 * 86400;

export const reopenSchema = z.object({
  /** The order's id (`ord_...`) or the reference on its receipt (`7KQ4M-2ZPXA`). */
  order: z.string().check(z.trim(), z.minLength(1, "is required"), z.maxLength(100)),
  /** How long access works again from now: `7d`, `48h` or seconds; 7 days when absent. */
  for: z._default(
    z.union([z.string(), z.number().check(z.int(), z.positive())]).check(
      z.refine(
        (span) => {
          const seconds = parseDuration(span);
          return seconds !== null && seconds <= YEAR_SECONDS;
        },
        { message: "must be a duration like 7d or 48h (at most 365 days)" },
      ),
    ),
    "7d",
  ),
});

export interface ReopenedOrder {
  orderId: string;
  reference: string;
  entitlementId: string;
  /** Access works until then (epoch ms). */
  until: number;
  /** Where the fresh link went. */
  mailedTo: string;
  /** False when the mailer did not take the mail: the access is re-opened all the same. */
  mailed: boolean;
}

/**
 * The seller re-opens an order whose access has ended (a subscription that ran out, access the
 * seller revoked) for a while: its entitlement is active again until now + `for`, the history
 * says "reopened" in the same transaction, and the buyer gets a fresh link by mail after the
 * commit. Refused: an order refunded or lost in a dispute (grant access instead), one under an
 * open dispute, an unpaid one, and one whose access has not ended (decision 0022).
 */
export async function reopenOrder({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof reopenSchema>;
}): Promise<ReopenedOrder> {
  requireAdmin(ctx);
  const parsed = parseInput(reopenSchema, input);
  const seconds = parseDuration(parsed.for) as number;
  const order = await orderNamed(ctx, parsed.order);
  const product = await productById(ctx, order.product_id);
  const entitlement = await entitlementOfOrder(ctx, order);
  const to = await addressOf(ctx, order, entitlement);
  const refusal = reopenRefusal(order, entitlement, ctx.clock.now(), { to, slug: product.slug });
  if (refusal !== null || !entitlement) throw conflict(refusal ?? "");
  if (!to) throw conflict("This order has no email address to send a fresh link to.");

  const reopened = await withTransaction(ctx, async (tx) => {
    const now = tx.clock.now();
    const until = now + seconds * 1000;
    // Only from the state just read: of two clicks at once, one re-opens and one is told.
    const row = await db(tx)
      .updateTable("entitlements")
      .set({ status: "active", revoked_reason: null, ends_at: until, updated_at: now })
      .where("id", "=", entitlement.id)
      .where("status", "=", entitlement.status)
      .where("updated_at", "=", entitlement.updated_at)
      .returningAll()
      .executeTakeFirst();
    if (!row)
      throw conflict("This order's access changed at the same moment. Look at the order again.");
    // Only an admin gets here: a seller signed in by session is still the seller, not a buyer.
    const by = { ...tx, cause: tx.cause ?? "seller" };
    await recordExpiryIfPassed(tx, entitlement);
    await recordAccessChange(by, row, "reopened", `for ${durationText(seconds)}`);
    await recordWebhookEvent(tx, "access.granted", accessData(row), { productId: row.product_id });
    const link = await createDownloadToken({
      ctx: { ...tx, actor: system },
      input: {
        ...(row.user_id ? { userId: row.user_id } : {}),
        email: to,
        productId: row.product_id,
      },
    });
    return { row, until, link };
  });

  const mailed = await mailFreshLink(ctx, {
    to,
    productName: product.name,
    link: reopened.link,
    reopenedUntil: reopened.until,
  });
  ctx.log.info("order reopened", {
    orderId: order.id,
    entitlementId: entitlement.id,
    until: reopened.until,
    mailed,
  });
  return {
    orderId: order.id,
    reference: orderReference(order.id),
    entitlementId: entitlement.id,
    until: reopened.until,
    mailedTo: to,
    mailed,
  };
}

/** An order by its id or by the reference its receipt shows. */
async function orderNamed(ctx: Ctx, text: string): Promise<Order> {
  const noSuchOrder = () => notFound("There is no such order.");
  if (text.startsWith("ord_")) {
    const order = await findOrder(ctx, { orderId: text });
    if (!order) throw noSuchOrder();
    return order;
  }
  const start = orderIdStart(text);
  if (!start) throw noSuchOrder();
  const orders = await db(ctx)
    .selectFrom("orders")
    .selectAll()
    .where(sql<string>`substr(${sql.ref("id")}, 1, ${start.length})`, "=", start)
    .limit(2)
    .execute();
  if (orders.length > 1)
    throw conflict(`Several orders have the reference ${text}: name the order by its id.`);
  const [order] = orders;
  if (!order) throw noSuchOrder();
  return order;
}

async function entitlementOfOrder(ctx: Ctx, order: Order): Promise<Entitlement | null> {
  const ref = entitlementRef(order);
  if (!ref) return null;
  const row = await db(ctx)
    .selectFrom("entitlements")
    .selectAll()
    .where("product_id", "=", order.product_id)
    .where("source", "=", ref.source)
    .where("source_ref", "=", ref.sourceRef)
    .executeTakeFirst();
  return row ?? null;
}

/** Where the fresh link goes: the access's email, else its account's, else the order's. */
async function addressOf(ctx: Ctx, order: Order, entitlement: Entitlement | null) {
  if (entitlement?.email) return normalizeEmail(entitlement.email);
  const userId = entitlement?.user_id ?? order.user_id;
  if (userId) {
    const user = await db(ctx)
      .selectFrom("users")
      .select("email")
      .where("id", "=", userId)
      .executeTakeFirst();
    if (user) return normalizeEmail(user.email);
  }
  return order.email ? normalizeEmail(order.email) : "";
}

/**
 * Why an order cannot be re-opened now, or null when it can: its access must have ended, and
 * not by a refund or a dispute (`buyer` only words the way to grant access instead).
 */
export function reopenRefusal(
  order: Pick<Order, "status">,
  entitlement: Entitlement | null,
  now: number,
  buyer: { to: string; slug: string } = { to: "", slug: "" },
): string | null {
  const grantInstead = `grant access instead: on the Customers page, or with \`tollgate grant ${buyer.to || "{email}"} ${buyer.slug || "{product}"}\``;
  const standing = entitlement ? accessStatus(entitlement, now) : null;
  if (order.status === "refunded" || standing === "refunded")
    return `This order was refunded; ${grantInstead}.`;
  if (entitlement?.revoked_reason === "dispute lost")
    return `This order lost a payment dispute; ${grantInstead}.`;
  if (order.status === "disputed" || entitlement?.status === "suspended")
    return "A payment dispute is open on this order: access comes back by itself if the dispute is won.";
  if (order.status !== "paid")
    return `This order is not paid (it is ${order.status}), so it has no access to re-open.`;
  if (!entitlement) return "This order gave no access, so there is none to re-open.";
  if (isActive(entitlement, now))
    return `This order's access has not ended${entitlement.ends_at === null ? "" : ` (it runs until ${new Date(entitlement.ends_at).toISOString()})`}: resend the receipt to send the buyer a fresh link.`;
  return null;
}
