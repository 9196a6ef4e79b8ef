import type { ExpressionBuilder } from "kysely";
import type { Database, Product } from "../../db/schema.ts";
import { type Ctx, db, newId, requireAdmin, withTransaction } from "../context.ts";
import { conflict, notFound } from "../errors.ts";
import { issueMissingLicenses } from "../licenses/keys.ts";
import { type InputOf, parseInput } from "../validate.ts";
import { graceColumns } from "./grace.ts";
import { checkPricing, pricingColumns } from "./pricing.ts";
import {
  createProductSchema,
  slugSchema,
  type UpdateProductInput,
  updateProductSchema,
} from "./schemas.ts";

export async function createProduct({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof createProductSchema>;
}): Promise<Product> {
  requireAdmin(ctx);
  const p = parseInput(createProductSchema, input);
  const now = ctx.clock.now();
  const row: Product = {
    id: newId(ctx, "prod"),
    slug: p.slug,
    name: p.name,
    description: p.description,
    kind: p.kind,
    price_amount: p.price?.amount ?? 0,
    currency: p.price?.currency ?? "usd",
    interval: p.kind === "subscription" ? (p.interval ?? null) : null,
    stripe_price_id: p.stripePriceId ?? null,
    active: (p.published ?? p.active) ? 1 : 0,
    license_enabled: p.license?.enabled ? 1 : 0,
    license_activation_limit: p.license?.activationLimit ?? null,
    license_expires_with_access: p.license?.expiresWithAccess === false ? 0 : 1,
    cover_image: null,
    download_limit: p.downloadLimit ?? null,
    grace_past_due_days: p.grace?.pastDueDays ?? 0,
    grace_refund_revokes: graceColumns(p.grace).grace_refund_revokes ?? null,
    grace_dispute_suspends: p.grace?.disputeSuspends === false ? 0 : 1,
    stamp_pdfs: p.stamp?.pdfs ? 1 : 0,
    stamp_failure: p.stamp?.onFailure ?? "original",
    tax_code: null,
    pwyw_minimum: null,
    pwyw_suggested: null,
    list_price: null,
    ...pricingColumns(p),
    created_at: now,
    updated_at: now,
  };
  checkPricing(row);
  return withTransaction(ctx, async (tx) => {
    const taken = await db(tx)
      .selectFrom("products")
      .select("id")
      .where("slug", "=", p.slug)
      .executeTakeFirst();
    if (taken) throw conflict(`A product with the slug "${p.slug}" already exists.`);
    await db(tx).insertInto("products").values(row).execute();
    ctx.log.info("product created", { slug: row.slug, kind: row.kind });
    return row;
  });
}

export async function updateProduct({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; changes: InputOf<typeof updateProductSchema> };
}): Promise<Product> {
  requireAdmin(ctx);
  const changes = parseInput(updateProductSchema, input.changes);
  const product = await getProductForAdmin({ ctx, input: { slug: input.slug } });
  const next = {
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.description !== undefined ? { description: changes.description } : {}),
    ...(changes.price
      ? { price_amount: changes.price.amount, currency: changes.price.currency }
      : {}),
    ...(changes.interval && product.kind === "subscription" ? { interval: changes.interval } : {}),
    ...(changes.stripePriceId !== undefined ? { stripe_price_id: changes.stripePriceId } : {}),
    ...((changes.published ?? changes.active) !== undefined
      ? { active: (changes.published ?? changes.active) ? 1 : 0 }
      : {}),
    ...licenseColumns(changes.license),
    ...(changes.downloadLimit !== undefined ? { download_limit: changes.downloadLimit } : {}),
    ...graceColumns(changes.grace),
    ...(changes.stamp?.pdfs !== undefined ? { stamp_pdfs: changes.stamp.pdfs ? 1 : 0 } : {}),
    ...(changes.stamp?.onFailure ? { stamp_failure: changes.stamp.onFailure } : {}),
    ...pricingColumns(changes),
    updated_at: ctx.clock.now(),
  };
  if (product.kind === "free" && next.price_amount)
    throw conflict("A free product cannot have a price.");
  if (product.kind !== "free" && next.price_amount === 0)
    throw conflict("A paid product needs a price above 0.");
  checkPricing({ ...product, ...next });
  return withTransaction(ctx, async (tx) => {
    await db(tx).updateTable("products").set(next).where("id", "=", product.id).execute();
    const updated = { ...product, ...next };
    if (updated.license_enabled && !product.license_enabled) {
      const issued = await issueMissingLicenses(tx, product.id);
      ctx.log.info("licences turned on", { slug: product.slug, keysIssued: issued });
    }
    return updated;
  });
}

/** The product columns a change of licence settings writes; fields left out stay as they are. */
function licenseColumns(license: UpdateProductInput["license"]) {
  if (!license) return {};
  return {
    ...(license.enabled !== undefined ? { license_enabled: license.enabled ? 1 : 0 } : {}),
    ...(license.activationLimit !== undefined
      ? { license_activation_limit: license.activationLimit }
      : {}),
    ...(license.expiresWithAccess !== undefined
      ? { license_expires_with_access: license.expiresWithAccess ? 1 : 0 }
      : {}),
  };
}

/**
 * The rule of what is on sale: a product is on sale when the seller published it (`active`) and
 * it can be delivered, that is it has at least one active file (its price is checked when it is
 * written). So a product created through the API without `"published": false` goes on sale by
 * itself with its first file, and one whose last file is retired leaves the store.
 */
const onSale = (eb: ExpressionBuilder<Database, "products">) =>
  eb.and([
    eb("products.active", "=", 1),
    eb.exists(
      eb
        .selectFrom("assets")
        .select("assets.id")
        .whereRef("assets.product_id", "=", "products.id")
        .where("assets.active", "=", 1),
    ),
  ]);

/** Products on sale, for the storefront; every product when an admin asks. */
export async function listProducts({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { includeUnpublished?: boolean };
}): Promise<Product[]> {
  let query = db(ctx).selectFrom("products").selectAll().orderBy("created_at", "asc").orderBy("id");
  if (!(input.includeUnpublished && ctx.actor.admin)) query = query.where(onSale);
  return query.execute();
}

/** A product on sale by slug (any product for an admin); the rest look unknown to buyers. */
export async function getProduct({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<Product> {
  const parsed = slugSchema.safeParse(input.slug);
  if (!parsed.success) throw productNotFound();
  let query = db(ctx).selectFrom("products").selectAll().where("slug", "=", parsed.data);
  if (!ctx.actor.admin) query = query.where(onSale);
  const product = await query.executeTakeFirst();
  if (!product) throw productNotFound();
  return product;
}

export async function getProductForAdmin({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<Product> {
  requireAdmin(ctx);
  const product = await findProductBySlug(ctx, input.slug);
  if (!product) throw productNotFound();
  return product;
}

/** A product that a row (order, entitlement) refers to; the reference guarantees it exists. */
export function productById(ctx: Ctx, id: string): Promise<Product> {
  return db(ctx).selectFrom("products").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function findProductBySlug(ctx: Ctx, slug: string): Promise<Product | undefined> {
  const parsed = slugSchema.safeParse(slug);
  if (!parsed.success) return undefined;
  return db(ctx)
    .selectFrom("products")
    .selectAll()
    .where("slug", "=", parsed.data)
    .executeTakeFirst();
}

export const productNotFound = () => notFound("There is no such product.");
