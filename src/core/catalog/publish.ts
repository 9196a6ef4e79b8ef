import type { Product } from "../../db/schema.ts";
import { type Ctx, requireAdmin } from "../context.ts";
import { conflict } from "../errors.ts";
import { listAssets } from "./assets.ts";
import { getProductForAdmin, updateProduct } from "./products.ts";

/** One thing a product needs before buyers can get what they pay for. */
export interface ReadinessCheck {
  id: "files" | "price" | "license-key";
  ok: boolean;
  /** What is checked, as the seller reads it ("At least one file"). */
  label: string;
  /** What to do when it fails. */
  fix: string;
}

/**
 * What a product needs to be deliverable: an active file; for a paid product, a price; with
 * licence keys on, a signing key the shop keeps (so the licence files it issues stay valid).
 */
export async function productReadiness(ctx: Ctx, product: Product): Promise<ReadinessCheck[]> {
  const files = await listAssets(ctx, product.id, { activeOnly: true });
  const checks: ReadinessCheck[] = [
    {
      id: "files",
      ok: files.length > 0,
      label: "At least one file to deliver",
      fix: "Upload the file buyers get.",
    },
  ];
  if (product.kind !== "free")
    checks.push({
      id: "price",
      ok: product.price_amount > 0 || product.stripe_price_id !== null,
      label: "A price",
      fix: "Set the price under Details.",
    });
  if (product.license_enabled)
    checks.push({
      id: "license-key",
      ok: ctx.settings.licenseSigningKeyKept,
      label: "A licence signing key the shop keeps",
      fix: "Run npx tollgate license keygen and set LICENSE_SIGNING_KEY to what it prints, so licence files stay valid if SESSION_SECRET changes.",
    });
  return checks;
}

/**
 * The seller publishes a product from their pages: only when it is deliverable, so nobody can buy
 * a product that has nothing to give. (The admin API's `published` flag is the seller's intent;
 * the storefront shows a published product once it has a file, see products.ts.)
 */
export async function publishProduct({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<Product> {
  requireAdmin(ctx);
  const product = await getProductForAdmin({ ctx, input });
  const missing = (await productReadiness(ctx, product)).filter((check) => !check.ok);
  if (missing.length)
    throw conflict(
      `Not published yet: ${missing.map((check) => `${check.label.toLowerCase()} is missing (${check.fix})`).join("; ")}`,
    );
  const published = await updateProduct({
    ctx,
    input: { slug: product.slug, changes: { active: true } },
  });
  ctx.log.info("product published", { slug: product.slug });
  return published;
}
