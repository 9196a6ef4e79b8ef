/**
 * Download limits (decision 0021): a product may allow each buyer (each entitlement) only so many
 * downloads of each of its files. The count lives in one row per entitlement and file
 * (`download_counts`), changed only by one conditional upsert, so any number of concurrent
 * downloads in any number of processes never count past the limit. Nothing here runs for a
 * product without a limit; the count is always read and written exactly, never through the read
 * cache.
 */
import { sql } from "kysely";
import type { Asset } from "../../db/schema.ts";
import { undeliverable } from "../catalog/assets.ts";
import { isQuarantined } from "../catalog/scan.ts";
import { type Ctx, db, sharedWrite } from "../context.ts";
import { AppError, notFound } from "../errors.ts";
import { cachedRead } from "../readCache.ts";
import { readShopProfile } from "../shop/profile.ts";
import type { StampPolicy } from "../stamping/stamps.ts";

/**
 * How long after a counted download the same file, by the same buyer, is that download again and
 * not a new one: a double click, a browser's retry, a download manager starting over or resuming
 * with ranges. Longer than a signed URL lives by default (5 minutes), so a redirect whose URL ran
 * out before the transfer ended is fetched again for free; short enough that a limit of N means
 * about N copies, not N afternoons of copies. It runs from the counted download, never from a
 * repeat, so repeating never keeps it open.
 */
export const REPEAT_WINDOW_MS = 10 * 60 * 1000;

/** One file of a product with a limit, as downloaded under one entitlement. */
export interface LimitedFile {
  entitlementId: string;
  asset: Pick<Asset, "id" | "product_id" | "filename">;
  /** The product's limit as the download was decided on (the upsert reads the current one). */
  limit: number;
}

/** The count row as it is now, read from the database itself. */
function countOf(ctx: Ctx, file: LimitedFile) {
  return db(ctx)
    .selectFrom("download_counts")
    .select(["used", "window_until"])
    .where("entitlement_id", "=", file.entitlementId)
    .where("asset_id", "=", file.asset.id)
    .executeTakeFirst();
}

/**
 * Refuses (403) a download that could not be counted: the buyer has used every download of this
 * file and the last one's window has closed. A refusal records nothing; the count is decided
 * when the download completes (countDownload), this only spares the buyer a transfer that would
 * be cut off at its end.
 */
export async function requireDownloadLeft(ctx: Ctx, file: LimitedFile): Promise<void> {
  const row = await countOf(ctx, file);
  if (!row) return;
  const used = Number(row.used);
  if (used < file.limit || Number(row.window_until) > ctx.clock.now()) return;
  throw await limitReached(ctx, file, used);
}

/**
 * Counts one completed download of the file (proxy mode: its last byte is going out; redirect
 * mode: its URL is being handed out) that began at `startedAt`. Free (true, nothing counted) when
 * it began within the window of the last counted download; counted (true) while the product's
 * current limit allows another; false when it allows none. One statement: the row is locked
 * while it is decided, so two processes never both take the last download.
 */
export async function countDownload(
  ctx: Ctx,
  file: Pick<LimitedFile, "entitlementId" | "asset">,
  startedAt: number,
): Promise<boolean> {
  const now = ctx.clock.now();
  const windowUntil = now + REPEAT_WINDOW_MS;
  const limitNow = sql<
    number | null
  >`(select download_limit from products where id = ${file.asset.product_id})`;
  const repeat = sql<boolean>`download_counts.window_until > ${startedAt}`;
  const counted = await sharedWrite(ctx, (tx) =>
    db(tx)
      .insertInto("download_counts")
      .values({
        entitlement_id: file.entitlementId,
        asset_id: file.asset.id,
        used: 1,
        window_until: windowUntil,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(["entitlement_id", "asset_id"])
          .doUpdateSet({
            used: sql`case when ${repeat} then download_counts.used else download_counts.used + 1 end`,
            window_until: sql`case when ${repeat} then download_counts.window_until else ${windowUntil} end`,
            updated_at: now,
          })
          .where(
            sql<boolean>`${repeat} or ${limitNow} is null or download_counts.used < ${limitNow}`,
          ),
      )
      .returning("used")
      .executeTakeFirst(),
  );
  return counted !== undefined;
}

/** The refusal: what happened, in the buyer's words, and what to do about it. */
export async function limitReached(ctx: Ctx, file: LimitedFile, used?: number): Promise<AppError> {
  const times = used ?? Number((await countOf(ctx, file))?.used ?? file.limit);
  const { supportEmail } = await readShopProfile(ctx);
  const count = times === 1 ? "once" : times === 2 ? "twice" : `${times} times`;
  const most =
    times === file.limit ? "the most this product allows" : `and this product allows ${file.limit}`;
  const ask = supportEmail ? `write to ${supportEmail}` : "reply to your receipt mail";
  return new AppError(
    "forbidden",
    `You have downloaded ${file.asset.filename} ${count}, ${most}. Ask the seller to reset it: ${ask}.`,
    { answer: { reason: "download_limit", downloadLimit: file.limit, downloadsLeft: 0 } },
  );
}

/** Downloads counted so far, by `{entitlement id}:{asset id}`, for these entitlements. */
export async function usedDownloads(
  ctx: Ctx,
  entitlementIds: string[],
): Promise<Map<string, number>> {
  if (!entitlementIds.length) return new Map();
  const rows = await db(ctx)
    .selectFrom("download_counts")
    .select(["entitlement_id", "asset_id", "used"])
    .where("entitlement_id", "in", entitlementIds)
    .execute();
  return new Map(rows.map((r) => [`${r.entitlement_id}:${r.asset_id}`, Number(r.used)]));
}

/** What a limit leaves: null without one. */
export const downloadsLeft = (limit: number | null, used: number): number | null =>
  limit === null ? null : Math.max(0, limit - used);

/**
 * A file of a product by id, as downloadableAsset finds it, with the product's download limit
 * read in the same (cached) query: the link and checkout downloads learn whether they are
 * limited without another round trip.
 */
export async function downloadableFile(
  ctx: Ctx,
  productId: string,
  assetId: string,
): Promise<{ asset: Asset; limit: number | null; stamp: StampPolicy }> {
  const found = await cachedRead(ctx, `asset+limit:${productId}:${assetId}`, async () => {
    const row = await db(ctx)
      .selectFrom("assets")
      .innerJoin("products", "products.id", "assets.product_id")
      .selectAll("assets")
      .select(["products.download_limit", "products.stamp_pdfs", "products.stamp_failure"])
      .where("assets.id", "=", assetId)
      .where("assets.product_id", "=", productId)
      .executeTakeFirst();
    if (!row) return undefined;
    const { download_limit, stamp_pdfs, stamp_failure, ...asset } = row;
    return {
      asset,
      limit: download_limit === null ? null : Number(download_limit),
      stamp: { stamp_pdfs, stamp_failure },
    };
  });
  if (!found) throw notFound("There is no such file.");
  if (!found.asset.active || isQuarantined(found.asset)) throw undeliverable(found.asset);
  return found;
}
