import type { Asset, Entitlement, Product } from "../../db/schema.ts";
import { fileRetired } from "../catalog/assets.ts";
import { findProductBySlug, productNotFound } from "../catalog/products.ts";
import { type Ctx, db, requireUser } from "../context.ts";
import type { Delivery, DeliveryRequest } from "../delivery/deliver.ts";
import { type ClientInfo, deliverAndRecord } from "../delivery/downloads.ts";
import { AppError, notFound } from "../errors.ts";
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
  const asset = await db(ctx)
    .selectFrom("assets")
    .selectAll()
    .where("id", "=", input.assetId)
    .where("product_id", "=", product.id)
    .executeTakeFirst();
  if (!asset) throw notFound("There is no such file.");
  if (!asset.active) throw fileRetired();
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
