import { getProductForAdmin } from "../catalog/products.ts";
import { type Ctx, requireAdmin } from "../context.ts";
import { emailSchema } from "../identity/signIn.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { type CreatedToken, createDownloadToken } from "./tokens.ts";

export const sellerTokenSchema = z
  .object({
    email: z.optional(emailSchema),
    userId: z.optional(z.string().check(z.minLength(1))),
    /** The product's slug. */
    product: z.string().check(z.minLength(1, "is required")),
    assetId: z.optional(z.string().check(z.minLength(1))),
    expiresIn: z.optional(z.union([z.string(), z.number().check(z.int(), z.positive())])),
    /** The link also ends this long after its first download, when that comes first. */
    expiresAfterFirstUse: z.optional(
      z.nullable(z.union([z.string(), z.number().check(z.int(), z.positive())])),
    ),
    maxUses: z.optional(z.nullable(z.number().check(z.int(), z.minimum(1), z.maximum(1_000_000)))),
  })
  .check(
    z.refine((t) => t.email || t.userId, { message: "give an email or a userId", path: ["email"] }),
  );

/** The admin API's download link: for an email or a user id, and a product named by its slug. */
export async function createTokenAsSeller({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof sellerTokenSchema>;
}): Promise<CreatedToken> {
  requireAdmin(ctx);
  const { product: slug, ...link } = parseInput(sellerTokenSchema, input);
  const product = await getProductForAdmin({ ctx, input: { slug } });
  return createDownloadToken({ ctx, input: { ...link, productId: product.id } });
}
