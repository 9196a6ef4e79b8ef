import type { Entitlement } from "../../db/schema.ts";
import { getProduct } from "../catalog/products.ts";
import { type Ctx, requireUser } from "../context.ts";
import { conflict } from "../errors.ts";
import { grantAccess } from "./entitlements.ts";

/** A signed-in user takes a free product; claiming twice returns the same entitlement. */
export async function claimFree({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<Entitlement> {
  const user = requireUser(ctx);
  const product = await getProduct({ ctx, input });
  if (product.kind !== "free") throw conflict("This product is not free; buy it to get access.");
  return grantAccess({
    ctx,
    input: {
      productId: product.id,
      owner: { userId: user.id, email: user.email },
      source: "free",
      sourceRef: `user:${user.id}`,
    },
  });
}
