import type { Asset, Entitlement, Product } from "../../db/schema.ts";
import { denialReason, isActive } from "../access/accessRule.ts";
import { downloadFacts } from "../access/downloadFacts.ts";
import { undeliverable } from "../catalog/assets.ts";
import { productNotFound } from "../catalog/products.ts";
import { isQuarantined } from "../catalog/scan.ts";
import { type Ctx, requireUser } from "../context.ts";
import { forbidden, notFound } from "../errors.ts";
import type { Delivery, DeliveryRequest } from "./deliver.ts";
import { type ClientInfo, deliverAndRecord } from "./deliverAndRecord.ts";

/**
 * May the signed-in user download this file? Ownership is decided before the file is, so a buyer
 * learns nothing about files of products they do not own.
 */
export async function authorizeDownload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; assetId: string };
}): Promise<{ product: Product; asset: Asset; entitlement: Entitlement }> {
  const user = requireUser(ctx);
  const facts = await downloadFacts(ctx, {
    slug: input.slug,
    assetId: input.assetId,
    holder: { userId: user.id, email: user.email },
  });
  if (!facts) throw productNotFound();
  const { product, entitlements, asset } = facts;
  const now = ctx.clock.now();
  const entitlement = entitlements.find((e) => isActive(e, now));
  if (!entitlement) {
    // An unpublished product is invisible to anyone who never had it.
    if (!product.active && entitlements.length === 0) throw productNotFound();
    throw forbidden(denialReason(entitlements, now));
  }
  if (!asset) throw notFound("There is no such file.");
  if (!asset.active || isQuarantined(asset)) throw undeliverable(asset);
  return { product, asset, entitlement };
}

/** The signed-in download: authorize, open the delivery, log it once (not once per range). */
export async function downloadAsUser({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; assetId: string; request: DeliveryRequest; client: ClientInfo };
}): Promise<Delivery> {
  const { product, asset, entitlement } = await authorizeDownload({ ctx, input });
  const user = requireUser(ctx);
  return deliverAndRecord(ctx, asset, input.request, {
    entitlementId: entitlement.id,
    assetId: asset.id,
    userId: user.id,
    client: input.client,
    link: `user:${user.id}`,
    limit: product.download_limit,
    stamp: product,
    sharingFlaggedAt: entitlement.sharing_flagged_at,
  });
}
