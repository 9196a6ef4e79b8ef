/**
 * The seller's view of one order's downloads under its product's download limit, and the reset
 * that gives the buyer every download again (decision 0021).
 */
import type { Entitlement, Order } from "../../db/schema.ts";
import { recordAccessChange } from "../access/history.ts";
import { type Ctx, db, requireAdmin, withTransaction } from "../context.ts";
import { conflict, notFound } from "../errors.ts";
import { entitlementRef, findOrder } from "../orders/orderState.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { inFileOrder } from "./fileOrder.ts";
import { downloadsLeft, usedDownloads } from "./limits.ts";

export interface OrderDownloads {
  orderId: string;
  product: { slug: string; name: string; downloadLimit: number | null };
  /** The product's active files, in the one file order. */
  files: {
    id: string;
    filename: string;
    /** Downloads counted for this order's buyer (a repeat within the window counts once). */
    downloads: number;
    /** null: the product has no limit. */
    downloadsLeft: number | null;
  }[];
}

const orderIdSchema = z.object({
  orderId: z.string().check(z.trim(), z.minLength(1, "is required"), z.maxLength(100)),
});

/** Each active file of an order's product with the downloads counted for its buyer. */
export async function orderDownloads({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof orderIdSchema>;
}): Promise<OrderDownloads> {
  requireAdmin(ctx);
  const { orderId } = parseInput(orderIdSchema, input);
  const order = await findOrder(ctx, { orderId });
  if (!order) throw noSuchOrder();
  return downloadsOf(ctx, order, await entitlementsOf(ctx, order));
}

/**
 * Forgets every download counted for an order's buyer, so each file of a limited product can be
 * downloaded as many times again as the product allows. The reset and its line in the access
 * history ("limit_changed") commit together. Answers the files with their counts (all 0).
 */
export async function resetDownloads({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof orderIdSchema>;
}): Promise<OrderDownloads> {
  requireAdmin(ctx);
  const { orderId } = parseInput(orderIdSchema, input);
  return withTransaction(ctx, async (tx) => {
    const order = await findOrder(tx, { orderId });
    if (!order) throw noSuchOrder();
    const entitlements = await entitlementsOf(tx, order);
    if (!entitlements.length)
      throw conflict("This order gave no access, so there are no downloads to reset.");
    const before = await downloadsOf(tx, order, entitlements);
    const ids = entitlements.map((e) => e.id);
    await db(tx).deleteFrom("download_counts").where("entitlement_id", "in", ids).execute();
    const counted = before.files.filter((f) => f.downloads > 0);
    const reason = counted.length
      ? `Downloads reset: ${counted.map((f) => `${f.filename} (${f.downloads})`).join(", ")}.`
      : "Downloads reset: none had been counted.";
    for (const e of entitlements) await recordAccessChange(tx, e, "limit_changed", reason);
    ctx.log.info("downloads reset", { orderId, files: counted.length });
    return downloadsOf(tx, order, entitlements);
  });
}

const noSuchOrder = () => notFound("There is no such order.");

function entitlementsOf(ctx: Ctx, order: Order): Promise<Entitlement[]> {
  const ref = entitlementRef(order);
  if (!ref) return Promise.resolve([]);
  return db(ctx)
    .selectFrom("entitlements")
    .selectAll()
    .where("product_id", "=", order.product_id)
    .where("source", "=", ref.source)
    .where("source_ref", "=", ref.sourceRef)
    .execute();
}

async function downloadsOf(
  ctx: Ctx,
  order: Order,
  entitlements: Entitlement[],
): Promise<OrderDownloads> {
  // One after another: this also runs inside the reset's transaction.
  const product = await db(ctx)
    .selectFrom("products")
    .select(["slug", "name", "download_limit"])
    .where("id", "=", order.product_id)
    .executeTakeFirstOrThrow();
  const assets = await db(ctx)
    .selectFrom("assets")
    .select(["id", "filename"])
    .where("product_id", "=", order.product_id)
    .where("active", "=", 1)
    .execute();
  const used = await usedDownloads(
    ctx,
    entitlements.map((e) => e.id),
  );
  const limit = product.download_limit === null ? null : Number(product.download_limit);
  return {
    orderId: order.id,
    product: { slug: product.slug, name: product.name, downloadLimit: limit },
    files: inFileOrder(assets).map((a) => {
      const downloads = entitlements.reduce(
        (sum, e) => sum + (used.get(`${e.id}:${a.id}`) ?? 0),
        0,
      );
      return {
        id: a.id,
        filename: a.filename,
        downloads,
        downloadsLeft: downloadsLeft(limit, downloads),
      };
    }),
  };
}
