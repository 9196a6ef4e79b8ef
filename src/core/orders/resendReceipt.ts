import { type Ctx, db, requireAdmin } from "../context.ts";
import { conflict, notFound, unavailable } from "../errors.ts";
import { sendReceipt } from "./receipts.ts";

/** A second resend within this time is refused: it is most likely a double click. */
const RESEND_GAP_MS = 60_000;

/**
 * Sends a paid order's receipt again (with a fresh download link). Claims receipt_sent_at the
 * way fulfilment does, so two clicks send one email; sendReceipt releases the claim when the mail
 * is not sent, and then the time of the earlier receipt is put back.
 */
export async function resendReceipt({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { orderId: string };
}): Promise<{ orderId: string; to: string }> {
  requireAdmin(ctx);
  const order = await db(ctx)
    .selectFrom("orders as o")
    .leftJoin("users as u", "u.id", "o.user_id")
    .select(["o.id", "o.status", "o.email", "o.receipt_sent_at", "u.email as user_email"])
    .where("o.id", "=", input.orderId)
    .executeTakeFirst();
  if (!order) throw notFound("There is no such order.");
  if (order.status !== "paid")
    throw conflict(`Only a paid order has a receipt to send; this order is ${order.status}.`);
  const to = order.email ?? order.user_email;
  if (!to) throw conflict("This order has no email address to send the receipt to.");

  const now = ctx.clock.now();
  const claimed = await db(ctx)
    .updateTable("orders")
    .set({ receipt_sent_at: now })
    .where("id", "=", order.id)
    .where("status", "=", "paid")
    .where((eb) =>
      eb.or([eb("receipt_sent_at", "is", null), eb("receipt_sent_at", "<", now - RESEND_GAP_MS)]),
    )
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1)
    throw conflict(
      "A receipt for this order was sent less than a minute ago. Please wait a moment.",
    );

  await sendReceipt(ctx, order.id);
  const after = await db(ctx)
    .selectFrom("orders")
    .select(["receipt_sent_at", "receipt_bounced_at", "receipt_bounce_reason"])
    .where("id", "=", order.id)
    .executeTakeFirstOrThrow();
  if (after.receipt_sent_at === null) {
    if (order.receipt_sent_at !== null)
      await db(ctx)
        .updateTable("orders")
        .set({ receipt_sent_at: order.receipt_sent_at })
        .where("id", "=", order.id)
        .where("receipt_sent_at", "is", null)
        .execute();
    if (after.receipt_bounced_at !== null && after.receipt_bounced_at >= now)
      throw conflict(
        `The receipt to ${to} bounced: ${after.receipt_bounce_reason ?? "the address was refused"}. Check the address with the buyer.`,
      );
    throw unavailable(
      `The receipt could not be sent to ${to}. Check the mail settings on the Settings page, then try again.`,
    );
  }
  ctx.log.info("receipt resent", { orderId: order.id });
  return { orderId: order.id, to };
}
