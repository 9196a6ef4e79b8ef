import type { Asset, Product } from "../../db/schema.ts";
import { entitlementsOf, isActive } from "../access/accessRule.ts";
import type { Ctx } from "../context.ts";
import { listAssets } from "./assets.ts";
import { getProduct } from "./products.ts";

/** A published product as the product page shows it: current files, and whether you own it. */
export async function viewProduct({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<{ product: Product; assets: Asset[]; owned: boolean }> {
  const product = await getProduct({ ctx, input });
  const user = ctx.actor.user;
  const [assets, entitlements] = await Promise.all([
    listAssets(ctx, product.id, { activeOnly: true }),
    user ? entitlementsOf(ctx, { userId: user.id, email: user.email }, product.id) : [],
  ]);
  const now = ctx.clock.now();
  return { product, assets, owned: entitlements.some((e) => isActive(e, now)) };
}
