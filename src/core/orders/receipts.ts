import type { Order } from "../../db/schema.ts";
import { productById } from "../catalog/products.ts";
import { type Ctx, db, system } from "../context.ts";
import { createDownloadToken } from "../delivery/tokens.ts";
import { isPermanentMailFailure } from "../ports.ts";

/** A claimed receipt not delivered after this long was lost (its process died) or failed. */
const UNDELIVERED_AFTER_MS = 10 * 60_000;
/** Undelivered receipts of orders paid longer ago than this are left to the seller. */
const RETRY_WINDOW_MS = 24 * 3600_000;
const CREATED_WINDOW_MS = 14 * 24 * 3600_000;

/**
 * The receipt, sent once per paid order (the caller claimed it with receipt_sent_at): the
 * library link and a delivery-token link, never a storage URL. Once the mailer has taken it,
 * receipt_delivered_at says so. When sending fails the claim is released, so the seller can
 * resend it and resendUndeliveredReceipts retries it; unless the recipient's server refused it
 * for good (a permanent MailFailure): then the receipt is recorded as bounced, with the reason,
 * and only the seller sends it again.
 */
export async function sendReceipt(ctx: Ctx, orderId: string): Promise<void> {
  const order = await db(ctx)
    .selectFrom("orders")
    .selectAll()
    .where("id", "=", orderId)
    .executeTakeFirstOrThrow();
  const product = await productById(ctx, order.product_id);
  const email =
    order.email ??
    (order.user_id
      ? (
          await db(ctx)
            .selectFrom("users")
            .select("email")
            .where("id", "=", order.user_id)
            .executeTakeFirst()
        )?.email
      : undefined);
  if (!email) return;
  try {
    const link = await createDownloadToken({
      ctx: { ...ctx, actor: system },
      input: { ...(order.user_id ? { userId: order.user_id } : { email }), productId: product.id },
    });
    const files = await db(ctx)
      .selectFrom("assets")
      .select(["filename", "size"])
      .where("product_id", "=", product.id)
      .where("active", "=", 1)
      .orderBy("filename")
      .execute();
    await ctx.mailer.send({
      kind: "receipt",
      to: email,
      productName: product.name,
      orderRef: order.id,
      amount: order.amount,
      currency: order.currency,
      files,
      link,
    });
    await db(ctx)
      .updateTable("orders")
      .set({
        receipt_delivered_at: ctx.clock.now(),
        receipt_bounced_at: null,
        receipt_bounce_reason: null,
      })
      .where("id", "=", orderId)
      .execute();
    ctx.log.info("receipt sent", { orderId, email });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const bounced = isPermanentMailFailure(error);
    await db(ctx)
      .updateTable("orders")
      .set({
        receipt_sent_at: null,
        ...(bounced
          ? { receipt_bounced_at: ctx.clock.now(), receipt_bounce_reason: reason.slice(0, 500) }
          : {}),
      })
      .where("id", "=", orderId)
      .execute();
    if (bounced) ctx.log.warn("receipt bounced; not retried", { orderId, error: reason });
    else ctx.log.error("receipt not sent", { orderId, error: reason });
  }
}

/** What became of an order's receipt, as the seller's pages and GET /api/admin/orders say it. */
export type ReceiptState = "sent" | "pending" | "bounced";

/**
 * sent: the mailer took it; bounced: the recipient's server refused it for good, at or after the
 * last delivery (a resend to a mailbox closed since); pending: not sent yet, or being retried.
 */
export function receiptState(
  order: Pick<Order, "receipt_delivered_at" | "receipt_bounced_at">,
): ReceiptState {
  const { receipt_delivered_at: delivered, receipt_bounced_at: bounced } = order;
  if (bounced !== null && (delivered === null || bounced >= delivered)) return "bounced";
  return delivered !== null ? "sent" : "pending";
}

/**
 * Sends the receipts of paid orders that never went out: claimed by a process that died before
 * mailing (the claim commits with the payment, the mail follows the commit), or failed and not
 * yet resent; never one that bounced. Each is claimed again first, so several processes never
 * send one twice. Runs with the periodic maintenance; returns how many it tried.
 */
export async function resendUndeliveredReceipts({ ctx }: { ctx: Ctx }): Promise<number> {
  const now = ctx.clock.now();
  const due = await db(ctx)
    .selectFrom("orders")
    .select(["id", "receipt_sent_at"])
    .where("status", "=", "paid")
    .where("receipt_delivered_at", "is", null)
    // A bounce is final: the seller sees it and decides.
    .where("receipt_bounced_at", "is", null)
    // created_at lets the orders_created index narrow the scan; a purchase is paid within days.
    .where("created_at", ">=", now - CREATED_WINDOW_MS)
    .where("updated_at", ">=", now - RETRY_WINDOW_MS)
    .where((eb) => eb.or([eb("email", "is not", null), eb("user_id", "is not", null)]))
    .where((eb) =>
      eb.or([
        eb("receipt_sent_at", "is", null),
        eb("receipt_sent_at", "<", now - UNDELIVERED_AFTER_MS),
      ]),
    )
    .orderBy("updated_at")
    .limit(50)
    .execute();
  let tried = 0;
  for (const order of due) {
    const claimed = await db(ctx)
      .updateTable("orders")
      .set({ receipt_sent_at: now })
      .where("id", "=", order.id)
      .where("receipt_delivered_at", "is", null)
      .where("receipt_bounced_at", "is", null)
      .where("receipt_sent_at", order.receipt_sent_at === null ? "is" : "=", order.receipt_sent_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    ctx.log.warn("receipt not delivered earlier; sending it again", { orderId: order.id });
    await sendReceipt(ctx, order.id);
    tried++;
  }
  return tried;
}
