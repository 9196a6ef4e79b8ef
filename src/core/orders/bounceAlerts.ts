import { alertSeller } from "../alerts.ts";
import { type Ctx, db, sharedWrite } from "../context.ts";
import { orderReference } from "./reference.ts";

/** Bounces older than this when first seen (a shop that just upgraded) are not alerted. */
const LOOK_BACK_MS = 2 * 24 * 3600_000;

/**
 * Tells the seller of each receipt that bounced, once per bounce (decision 0024): a bounce is
 * claimed in receipt_bounce_alerts (order, time of the bounce) before its mail goes, so two
 * processes, or a pass run twice, alert it once; a crash between the claim and the mail loses
 * that alert rather than sending it twice. A later bounce of the same order (a resend to an
 * address closed since) is a new one. Safe to call any time; the per-minute background job
 * (Node) and Cron (Workers) call it, so the seller hears of a bounce within about a minute.
 * Answers how many bounces it alerted.
 */
export async function alertBouncedReceipts({ ctx }: { ctx: Ctx }): Promise<number> {
  const now = ctx.clock.now();
  const fresh = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .leftJoin("users as u", "u.id", "o.user_id")
    .leftJoin("receipt_bounce_alerts as a", (join) =>
      join.onRef("a.order_id", "=", "o.id").onRef("a.bounced_at", "=", "o.receipt_bounced_at"),
    )
    .select([
      "o.id",
      "o.email",
      "o.receipt_bounced_at",
      "o.receipt_bounce_reason",
      "u.email as user_email",
      "p.name as product_name",
    ])
    .where("o.receipt_bounced_at", ">", now - LOOK_BACK_MS)
    .where("a.order_id", "is", null)
    .where((eb) =>
      eb.or([
        eb("o.receipt_delivered_at", "is", null),
        eb("o.receipt_delivered_at", "<=", eb.ref("o.receipt_bounced_at")),
      ]),
    )
    .orderBy("o.receipt_bounced_at")
    .limit(50)
    .execute();
  let alerted = 0;
  for (const order of fresh) {
    const bouncedAt = Number(order.receipt_bounced_at);
    const claimed = await sharedWrite(ctx, (tx) =>
      db(tx)
        .insertInto("receipt_bounce_alerts")
        .values({ order_id: order.id, bounced_at: bouncedAt, alerted_at: tx.clock.now() })
        .onConflict((oc) => oc.columns(["order_id", "bounced_at"]).doNothing())
        .returning("order_id")
        .executeTakeFirst(),
    );
    if (!claimed) continue;
    const to = order.email ?? order.user_email ?? "the buyer";
    await alertSeller(ctx, {
      title: `A receipt bounced: ${to}`,
      lead: `The mail server for ${to} refused the receipt of ${order.product_name} for good, so the buyer has no download link by mail. Their confirmation page offers to correct the address; if they do not, check the address with them and resend the receipt from the order's page.`,
      rows: [
        ["Order", orderReference(order.id)],
        ["Product", order.product_name],
        ["Buyer", to],
        ["Refused with", order.receipt_bounce_reason ?? "no reason given"],
      ],
      pageUrl: `/admin/orders/${encodeURIComponent(order.id)}`,
    });
    alerted++;
  }
  if (alerted) ctx.log.info("seller alerted of bounced receipts", { count: alerted });
  return alerted;
}
