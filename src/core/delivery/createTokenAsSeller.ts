import * as z from "zod";
import { getProductForAdmin } from "../catalog/products.ts";
import { type Ctx, requireAdmin } from "../context.ts";
import { emailSchema } from "../identity/signIn.ts";
import { type InputOf, parseInput } from "../validate.ts";
import { type CreatedToken, createDownloadToken } from "./tokens.ts";

export const sellerTokenSchema = z
  .object({
    email: emailSchema.optional(),
    userId: z.string().min(1).optional(),
    /** The product's slug. */
    product: z.string().min(1, "is required"),
    assetId: z.string().min(1).optional(),
    expiresIn: z.union([z.string(), z.number().int().positive()]).optional(),
    maxUses: z.number().int().min(1).max(1_000_000).nullable().optional(),
  })
  .refine((t) => t.email || t.userId, { message: "give an email or a userId", path: ["email"] });

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
