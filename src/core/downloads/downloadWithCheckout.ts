import type { Order } from "../../db/schema.ts";
import { requireAccess } from "../access/accessRule.ts";
import type { Ctx } from "../context.ts";
import { forbidden } from "../errors.ts";
import { orderForViewer } from "../orders/confirmCheckout.ts";
import type { Delivery, DeliveryRequest } from "./deliver.ts";
import { type ClientInfo, deliverAndRecord } from "./deliverAndRecord.ts";
import { downloadableFile } from "./limits.ts";

/** A file of a purchase, downloaded with the checkout session id as proof (guests, 24 hours). */
export async function downloadWithCheckout({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sessionId: string; assetId: string; request: DeliveryRequest; client: ClientInfo };
}): Promise<Delivery> {
  const order = await orderForViewer(ctx, input.sessionId);
  if (order.status !== "paid")
    throw forbidden(NOT_PAID[order.status] ?? "This purchase is not paid.");
  const entitlement = await requireAccess(
    ctx,
    { userId: order.user_id, email: order.email },
    order.product_id,
  );
  const { asset, limit, stamp } = await downloadableFile(ctx, order.product_id, input.assetId);
  return deliverAndRecord(ctx, asset, input.request, {
    entitlementId: entitlement.id,
    assetId: asset.id,
    userId: order.user_id,
    client: input.client,
    link: `order:${order.id}`,
    limit,
    stamp,
    sharingFlaggedAt: entitlement.sharing_flagged_at,
  });
}

const NOT_PAID: Partial<Record<Order["status"], string>> = {
  refunded: "This purchase was refunded, so its files are no longer available.",
  failed:
    "The payment for this purchase failed, so nothing was charged and there is nothing to download.",
  pending: "This payment is not confirmed yet. The download opens as soon as it is.",
  abandoned: "This checkout was not completed, so there is nothing to download.",
  disputed: "This payment is disputed, so its files are unavailable until the dispute is settled.",
};
