import type { Product } from "../../db/schema.ts";
import { type Ctx, db, requireAdmin } from "../context.ts";
import { storePublicImage } from "../images/publicImages.ts";
import { getProductForAdmin } from "./products.ts";

/**
 * Sets a product's cover image from the image's bytes (checked and stored by
 * core/images/publicImages.ts). A refused image (not an image, SVG, too large) throws before
 * anything changes: the product keeps the cover it had.
 */
export async function setProductCover({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: {
    slug: string;
    body: ReadableStream<Uint8Array> | Uint8Array | null;
    declaredSize?: number | null;
  };
}): Promise<Product> {
  requireAdmin(ctx);
  const product = await getProductForAdmin({ ctx, input: { slug: input.slug } });
  const image = await storePublicImage(ctx, {
    body: input.body,
    declaredSize: input.declaredSize ?? null,
  });
  return writeCover(ctx, product, image.id);
}

/**
 * Takes the cover off a product. The image itself stays stored: its id may be another product's
 * cover or the shop's logo too (the same bytes are the same id), and it is small.
 */
export async function removeProductCover({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<Product> {
  requireAdmin(ctx);
  const product = await getProductForAdmin({ ctx, input: { slug: input.slug } });
  return writeCover(ctx, product, null);
}

async function writeCover(ctx: Ctx, product: Product, cover: string | null): Promise<Product> {
  const changes = { cover_image: cover, updated_at: ctx.clock.now() };
  await db(ctx).updateTable("products").set(changes).where("id", "=", product.id).execute();
  ctx.log.info(cover ? "product cover set" : "product cover removed", {
    slug: product.slug,
    ...(cover ? { image: cover } : {}),
  });
  return { ...product, ...changes };
}
