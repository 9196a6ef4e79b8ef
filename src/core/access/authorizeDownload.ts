import type { Asset, Entitlement, Product } from "../../db/schema.ts";
import { downloadableAsset } from "../catalog/assets.ts";
import { findProductBySlug, productNotFound } from "../catalog/products.ts";
import { type Ctx, requireUser } from "../context.ts";
import type { Delivery, DeliveryRequest } from "../delivery/deliver.ts";
import { type ClientInfo, deliverAndRecord } from "../delivery/downloads.ts";
import { AppError } from "../errors.ts";
import { entitlementsOf, requireAccess } from "./accessRule.ts";

/**
 * May the signed-in user download this file? Ownership is checked before the file is looked
 * up, so a buyer learns nothing about files of products they do not own.
 */
export async function authorizeDownload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; assetId: string };
}): Promise<{ product: Product; asset: Asset; entitlement: Entitlement }> {
  const user = requireUser(ctx);
  const holder = { userId: user.id, email: user.email };
  const product = await findProductBySlug(ctx, input.slug);
  if (!product) throw productNotFound();
  let entitlement: Entitlement;
  try {
    entitlement = await requireAccess(ctx, holder, product.id);
  } catch (error) {
    // An unpublished product is invisible to anyone who never had it.
    if (
      !product.active &&
      error instanceof AppError &&
      (await entitlementsOf(ctx, holder, product.id)).length === 0
    ) {
      throw productNotFound();
    }
    throw error;
  }
  const asset = await downloadableAsset(ctx, product.id, input.assetId);
  return { product, asset, entitlement };
}

/** The signed-in download: authorize, open the delivery, log it (not again for a later range). */
export async function downloadAsUser({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; assetId: string; request: DeliveryRequest; client: ClientInfo };
}): Promise<Delivery> {
  const { asset, entitlement } = await authorizeDownload({ ctx, input });
  return deliverAndRecord(ctx, asset, input.request, {
    entitlementId: entitlement.id,
    assetId: asset.id,
    userId: ctx.actor.user?.id ?? null,
    client: input.client,
  });
}
