import { findAsset } from "../catalog/assets.ts";
import { getProductForAdmin } from "../catalog/products.ts";
import { type Ctx, requireAdmin } from "../context.ts";
import { notFound } from "../errors.ts";
import { type Delivery, type DeliveryRequest, prepareDelivery } from "./deliver.ts";

/**
 * The seller opens one of a product's files (to check it, or from the buyer's-eye preview). Not a
 * buyer's download: it is logged, never counted in the download log or against any link.
 */
export async function downloadAsSeller({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; assetId: string; request: DeliveryRequest };
}): Promise<Delivery> {
  requireAdmin(ctx);
  const product = await getProductForAdmin({ ctx, input });
  const asset = await findAsset(ctx, input.assetId);
  if (asset?.product_id !== product.id) throw notFound("This product has no such file.");
  ctx.log.info("seller opened a file", { slug: product.slug, assetId: asset.id });
  return prepareDelivery(ctx, asset, input.request);
}
