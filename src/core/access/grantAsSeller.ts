import { getProductForAdmin } from "../catalog/products.ts";
import { type Ctx, normalizeEmail, requireAdmin } from "../context.ts";
import { emailSchema } from "../identity/signIn.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { type EntitlementView, grantAccess } from "./entitlements.ts";

export const sellerGrantSchema = z.object({
  email: emailSchema,
  /** The product's slug. */
  product: z.string().check(z.minLength(1, "is required")),
});

/**
 * The seller gives a product to an email (the admin API, the customers page and `tollgate grant`
 * alike): it is in their library once they sign in with that address. Granting again is
 * harmless, and turns a grant the seller revoked back on.
 */
export async function grantAsSeller({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof sellerGrantSchema>;
}): Promise<EntitlementView> {
  requireAdmin(ctx);
  const { email, product: slug } = parseInput(sellerGrantSchema, input);
  const product = await getProductForAdmin({ ctx, input: { slug } });
  const owner = normalizeEmail(email);
  const entitlement = await grantAccess({
    ctx,
    input: {
      productId: product.id,
      owner: { email: owner },
      source: "grant",
      sourceRef: `email:${owner}`,
      reactivate: true,
    },
  });
  return { ...entitlement, product_slug: product.slug, product_name: product.name };
}
