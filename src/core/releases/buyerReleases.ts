/**
 * What a buyer sees of a product's releases in the library (decision 0018). With access: the
 * current release (notes, manifest, what changed) and every earlier one, since the files a buyer
 * gets are always the current ones and the history is the product's changelog. After access
 * ended: the last release published while it lasted, and how many came after (not their notes).
 */
import type { Entitlement } from "../../db/schema.ts";
import type { Ctx } from "../context.ts";
import { type ReleaseView, releaseView } from "./manifest.ts";
import { releasesOf } from "./releases.ts";

export interface LibraryReleases {
  current: ReleaseView;
  /** Newest first. */
  earlier: ReleaseView[];
  /** The current release's changes against `?since={version}` (an earlier one), as one zip. */
  changesUrl: string;
}

export interface EndedReleases {
  /** The newest release published before the access ended; null: none was. */
  last: { version: string; publishedAt: number } | null;
  /** Releases published since: they need access again. */
  newer: number;
}

/** Each product's releases, newest first. */
export async function releasesByProduct(
  ctx: Ctx,
  productIds: string[],
): Promise<Map<string, ReleaseView[]>> {
  const found = new Map<string, ReleaseView[]>();
  for (const row of await releasesOf(ctx, productIds)) {
    const list = found.get(row.product_id) ?? [];
    list.push(releaseView(row));
    found.set(row.product_id, list);
  }
  return found;
}

export function libraryReleases(
  ctx: Ctx,
  slug: string,
  releases: ReleaseView[] | undefined,
): LibraryReleases | null {
  const [current, ...earlier] = releases ?? [];
  if (!current) return null;
  return {
    current,
    earlier,
    changesUrl: `${ctx.settings.publicUrl}/library/${slug}/releases/${encodeURIComponent(current.version)}/changes.zip`,
  };
}

/** When access to a product ended: the latest end of its ended entitlements. */
export function endedReleases(
  entitlements: Entitlement[],
  releases: ReleaseView[] | undefined,
  now: number,
): EndedReleases | null {
  if (!releases?.length) return null;
  const endedAt = Math.max(
    ...entitlements.map((e) =>
      e.ends_at !== null && e.ends_at <= now ? Number(e.ends_at) : Number(e.updated_at),
    ),
  );
  const had = releases.filter((r) => r.publishedAt <= endedAt);
  const last = had[0];
  return {
    last: last ? { version: last.version, publishedAt: last.publishedAt } : null,
    newer: releases.length - had.length,
  };
}
