import type { Asset } from "../../db/schema.ts";
import type { Ctx } from "../context.ts";
import { parseRange } from "../delivery/range.ts";
import { AppError, unavailable } from "../errors.ts";
import type { ObjectBody } from "../ports.ts";
import { cachedRead } from "../readCache.ts";

export type Delivery =
  | { kind: "redirect"; url: string; asset: Asset }
  | { kind: "stream"; asset: Asset; object: ObjectBody }
  | { kind: "unsatisfiable"; asset: Asset }
  /** A HEAD request: access was checked; nothing was opened, counted or logged. */
  | { kind: "head"; asset: Asset };

export interface DeliveryRequest {
  range?: string | null;
  /** `If-Range`: a range applies only while the file is still the one the client started on. */
  ifRange?: string | null;
  /** HEAD: check access and describe the file, but open, count and log nothing. */
  headOnly?: boolean;
}

export const etagOf = (asset: Asset) => `"${asset.sha256}"`;

/**
 * Opens the way to one file: a short-lived signed URL (redirect mode) or the object's bytes
 * (proxy mode). Storage failures become a 503 before anything is counted or logged.
 */
export async function prepareDelivery(
  ctx: Ctx,
  asset: Asset,
  request: DeliveryRequest,
): Promise<Delivery> {
  try {
    if (ctx.settings.delivery.mode === "redirect") {
      // A URL made in the last second is handed out again (decision 0010): it lives at most a
      // second less than a new one would, and it opens this file only, to whoever may have it.
      const ttl = ctx.settings.delivery.urlTtlSeconds;
      const url = await cachedRead(ctx, `url:${ttl}:${asset.id}:${asset.storage_key}`, () =>
        ctx.store.signedUrl(asset.storage_key, {
          expiresInSeconds: ttl,
          filename: asset.filename,
          contentType: asset.content_type,
        }),
      );
      return { kind: "redirect", url, asset };
    }
    const honourRange = !request.ifRange || request.ifRange === etagOf(asset);
    const range = honourRange ? parseRange(request.range, asset.size) : { kind: "full" as const };
    if (range.kind === "unsatisfiable") return { kind: "unsatisfiable", asset };
    const object = await ctx.store.get(
      asset.storage_key,
      range.kind === "partial" ? range.range : undefined,
    );
    if (!object) {
      ctx.log.error("stored file is missing", { assetId: asset.id, key: asset.storage_key });
      throw unavailable("This file is temporarily unavailable. Please try again in a few minutes.");
    }
    return { kind: "stream", asset, object };
  } catch (error) {
    if (error instanceof AppError) throw error;
    ctx.log.error("storage unreachable", { assetId: asset.id, error: String(error) });
    throw unavailable(
      "File storage is not reachable right now. Please try again in a few minutes.",
    );
  }
}

/** Releases what prepareDelivery opened when the download is refused after all. */
export async function abandonDelivery(delivery: Delivery): Promise<void> {
  if (delivery.kind === "stream") await delivery.object.body.cancel().catch(() => {});
}
