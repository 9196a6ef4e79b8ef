import type { Asset, Product } from "../../db/schema.ts";
import { contentDisposition } from "../contentDisposition.ts";
import { type Ctx, db, newId, requireAdmin, withTransaction } from "../context.ts";
import { conflict, gone, notFound } from "../errors.ts";
import { cachedRead } from "../readCache.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { safeContentType, sanitizeFilename } from "./filenames.ts";
import { getProductForAdmin } from "./products.ts";
import { isQuarantined, NOT_SCANNED, scanStoredFile } from "./scan.ts";

export interface AddAssetInput {
  productSlug: string;
  filename: string;
  contentType?: string | null;
  body: ReadableStream<Uint8Array>;
}

/**
 * Stores a file privately under a key we generate, hashing it on the way, and records it as
 * the newest version of its file name; older versions of that name are retired.
 */
export async function addAsset({ ctx, input }: { ctx: Ctx; input: AddAssetInput }): Promise<Asset> {
  requireAdmin(ctx);
  const product = await getProductForAdmin({ ctx, input: { slug: input.productSlug } });
  const filename = sanitizeFilename(input.filename);
  const contentType = safeContentType(input.contentType, filename);
  const id = newId(ctx, "ast");
  const storageKey = assetStorageKey(product.id, id);

  const hash = ctx.crypto.createSha256();
  const hashing = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  });
  // The store enforces the size limit as the bytes arrive (too_large) and reports the size.
  const { size } = await ctx.store.put(storageKey, input.body.pipeThrough(hashing), {
    contentType,
    contentDisposition: contentDisposition(filename),
    maxBytes: ctx.settings.maxUploadBytes,
  });
  const sha256 = await hash.digestHex();

  try {
    return await recordStoredAsset(ctx, {
      product,
      id,
      filename,
      storageKey,
      size,
      sha256,
      contentType,
    });
  } catch (error) {
    await ctx.store.delete(storageKey).catch(() => {});
    throw error;
  }
}

/** Where a product's file lives in storage: always a key we generate, never the seller's name. */
export const assetStorageKey = (productId: string, assetId: string) =>
  `products/${productId}/${assetId}`;

export interface StoredFile {
  product: Pick<Product, "id" | "slug">;
  /** The asset id the storage key was made with. */
  id: string;
  /** Already sanitized. */
  filename: string;
  storageKey: string;
  size: number;
  sha256: string;
  contentType: string;
}

/**
 * Records a file already in storage as the newest version of its file name and retires the
 * older versions, in one transaction. The caller removes the object if this fails. The same bytes
 * as the current version are no new version: that version is kept (and answered), and the new
 * copy removed, so buyers' "new version" never means nothing changed. With a malware scanner
 * (CLAMD_URL) the file is scanned first (scan.ts): one found infected, or that could not be
 * scanned, is recorded quarantined (inactive) and the older versions stay delivered.
 */
export async function recordStoredAsset(ctx: Ctx, file: StoredFile): Promise<Asset> {
  const { product, filename, size, sha256 } = file;
  const current = await db(ctx)
    .selectFrom("assets")
    .selectAll()
    .where("product_id", "=", product.id)
    .where("filename", "=", filename)
    .where("active", "=", 1)
    .executeTakeFirst();
  if (current && current.sha256 === sha256 && current.size === size) {
    await ctx.store.delete(file.storageKey).catch(() => {});
    ctx.log.info("file uploaded again unchanged; current version kept", {
      product: product.slug,
      filename,
      version: current.version,
    });
    return current;
  }
  const scan = (await scanStoredFile(ctx, file)) ?? NOT_SCANNED;
  const quarantined = isQuarantined(scan);
  return withTransaction(ctx, async (tx) => {
    const previous = await db(tx)
      .selectFrom("assets")
      .select((eb) => eb.fn.max("version").as("version"))
      .where("product_id", "=", product.id)
      .where("filename", "=", filename)
      .executeTakeFirst();
    const asset: Asset = {
      id: file.id,
      product_id: product.id,
      filename,
      storage_key: file.storageKey,
      size,
      sha256,
      content_type: file.contentType,
      version: Number(previous?.version ?? 0) + 1,
      active: quarantined ? 0 : 1,
      created_at: ctx.clock.now(),
      ...scan,
    };
    if (!quarantined)
      await db(tx)
        .updateTable("assets")
        .set({ active: 0 })
        .where("product_id", "=", product.id)
        .where("filename", "=", filename)
        .execute();
    await db(tx).insertInto("assets").values(asset).execute();
    ctx.log.info(quarantined ? "file recorded quarantined" : "file uploaded", {
      product: product.slug,
      filename,
      size,
      sha256,
      version: asset.version,
    });
    return asset;
  });
}

/** Every file of a product, newest first; `activeOnly` for what buyers see. */
export async function listAssets(
  ctx: Ctx,
  productId: string,
  opts: { activeOnly: boolean },
): Promise<Asset[]> {
  let query = db(ctx)
    .selectFrom("assets")
    .selectAll()
    .where("product_id", "=", productId)
    .orderBy("filename")
    .orderBy("version", "desc");
  if (opts.activeOnly) query = query.where("active", "=", 1);
  return query.execute();
}

/** How many files buyers get per product, for the seller's product list. */
export async function deliveredFileCounts(ctx: Ctx): Promise<Map<string, number>> {
  const rows = await db(ctx)
    .selectFrom("assets")
    .select("product_id")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("active", "=", 1)
    .groupBy("product_id")
    .execute();
  return new Map(rows.map((r) => [r.product_id, Number(r.count)]));
}

export const assetActiveSchema = z.strictObject({ assetId: z.string(), active: z.boolean() });

/** Retires a file (buyers no longer see or download it) or restores it. */
export async function setAssetActive({
  ctx,
  input: raw,
}: {
  ctx: Ctx;
  input: InputOf<typeof assetActiveSchema>;
}): Promise<Asset> {
  requireAdmin(ctx);
  const input = parseInput(assetActiveSchema, raw);
  let asset = await findAsset(ctx, input.assetId);
  if (!asset) throw notFound("There is no such file.");
  if (input.active && isQuarantined(asset)) asset = await scanAgain(ctx, asset);
  await db(ctx)
    .updateTable("assets")
    .set({ active: input.active ? 1 : 0 })
    .where("id", "=", asset.id)
    .execute();
  ctx.log.info(input.active ? "file restored" : "file retired", {
    assetId: asset.id,
    filename: asset.filename,
  });
  return { ...asset, active: input.active ? 1 : 0 };
}

/**
 * A quarantined file is restored only by a new scan that finds it clean (decision 0027): an
 * infected one never; one whose scan failed is scanned again, when a scanner is configured.
 */
async function scanAgain(ctx: Ctx, asset: Asset): Promise<Asset> {
  if (asset.scan_status === "infected")
    throw conflict(
      `This file is quarantined: the malware scan found ${asset.scan_detail ?? "malware"} in it. It is never delivered; upload a clean file.`,
    );
  const scan = await scanStoredFile(ctx, {
    storageKey: asset.storage_key,
    filename: asset.filename,
    size: asset.size,
  });
  if (!scan)
    throw conflict(
      "This file's malware scan failed and no scanner is configured now (CLAMD_URL): upload it again.",
    );
  await db(ctx).updateTable("assets").set(scan).where("id", "=", asset.id).execute();
  if (isQuarantined(scan))
    throw conflict(
      scan.scan_status === "infected"
        ? `The malware scan found ${scan.scan_detail} in this file: it stays quarantined.`
        : `The malware scan failed again: ${scan.scan_detail}`,
    );
  return { ...asset, ...scan };
}

/** Why buyers cannot have this file: quarantined by a malware scan (decision 0027), or retired. */
export const undeliverable = (asset: Pick<Asset, "scan_status">) =>
  isQuarantined(asset) ? fileQuarantined() : fileRetired();

/** A product's file that buyers may download: 404 when it is not this product's, 410 when retired. */
export async function downloadableAsset(
  ctx: Ctx,
  productId: string,
  assetId: string,
): Promise<Asset> {
  const asset = await cachedRead(ctx, `asset:${productId}:${assetId}`, () =>
    db(ctx)
      .selectFrom("assets")
      .selectAll()
      .where("id", "=", assetId)
      .where("product_id", "=", productId)
      .executeTakeFirst(),
  );
  if (!asset) throw notFound("There is no such file.");
  if (!asset.active || isQuarantined(asset)) throw undeliverable(asset);
  return asset;
}

export function findAsset(ctx: Ctx, assetId: string): Promise<Asset | undefined> {
  return db(ctx).selectFrom("assets").selectAll().where("id", "=", assetId).executeTakeFirst();
}

export const fileRetired = () => gone("This file has been retired by the seller.");
export const fileQuarantined = () =>
  gone("This file is not available: the shop's malware scan held it back.");
