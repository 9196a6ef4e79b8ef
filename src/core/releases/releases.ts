/**
 * The seller's releases of a product (issue 17, decision 0018): publish one (version, notes, the
 * product's active files now and what changed against the previous release), list them.
 */
import type { Release } from "../../db/schema.ts";
import { getProductForAdmin } from "../catalog/products.ts";
import { type Ctx, db, newId, requireAdmin, withTransaction } from "../context.ts";
import { inFileOrder } from "../downloads/fileOrder.ts";
import { conflict, invalidInput } from "../errors.ts";
import { type InputOf, parseInput } from "../validate.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";
import * as z from "../zod.ts";
import { diffFiles, type ReleaseFile, type ReleaseView, releaseView } from "./manifest.ts";
import { type NoticeProgress, noticeProgress, queueNotices } from "./notices.ts";
import { noticesQueued } from "./sendNotices.ts";

export const publishReleaseSchema = z.object({
  version: z
    .string()
    .check(
      z.trim(),
      z.minLength(1, "is required"),
      z.maxLength(64),
      z.regex(
        /^[A-Za-z0-9][A-Za-z0-9._+-]*$/,
        "use letters, digits, dots, dashes, + and _ (e.g. 1.2.0)",
      ),
    ),
  notes: z._default(z.string().check(z.maxLength(50_000)), ""),
  /** Mail every buyer with access now about it. */
  notify: z._default(z.boolean(), false),
});

export type ReleaseWithProgress = ReleaseView & { notices: NoticeProgress | null };

export async function publishRelease({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; release: InputOf<typeof publishReleaseSchema> };
}): Promise<ReleaseWithProgress> {
  requireAdmin(ctx);
  const r = parseInput(publishReleaseSchema, input.release);
  const product = await getProductForAdmin({ ctx, input: { slug: input.slug } });
  let queued = 0;
  const result = await withTransaction(ctx, async (tx) => {
    const [assets, previous, taken] = await Promise.all([
      db(tx)
        .selectFrom("assets")
        .select(["id", "filename", "size", "sha256"])
        .where("product_id", "=", product.id)
        .where("active", "=", 1)
        .execute(),
      db(tx)
        .selectFrom("releases")
        .selectAll()
        .where("product_id", "=", product.id)
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirst(),
      db(tx)
        .selectFrom("releases")
        .select("id")
        .where("product_id", "=", product.id)
        .where("version", "=", r.version)
        .executeTakeFirst(),
    ]);
    if (taken) throw conflict(`${product.name} already has a release ${r.version}.`);
    if (!assets.length)
      throw invalidInput("A release needs at least one active file: upload one first.", {
        fields: [{ field: "files", message: "the product has no active file" }],
      });
    const files: ReleaseFile[] = inFileOrder(assets).map((a) => ({
      id: a.id,
      filename: a.filename,
      size: Number(a.size),
      sha256: a.sha256,
    }));
    const before = previous ? releaseView(previous).files : null;
    const row: Release = {
      id: newId(ctx, "rel"),
      product_id: product.id,
      seq: (previous?.seq ?? 0) + 1,
      version: r.version,
      notes: r.notes,
      files: JSON.stringify(files),
      changes: JSON.stringify(diffFiles(before, files)),
      notify: r.notify ? 1 : 0,
      created_at: ctx.clock.now(),
    };
    // A second publish at the same moment takes the same seq: the unique index refuses it.
    await db(tx).insertInto("releases").values(row).execute();
    queued = r.notify ? await queueNotices(tx, row) : 0;
    await recordPublished(tx, row, files);
    ctx.log.info("release published", { slug: product.slug, version: r.version, queued });
    return row;
  });
  const published = await withProgress(ctx, result);
  // After the commit: the first batch of update mails leaves now, not at the next housekeeping.
  noticesQueued(ctx, queued);
  return published;
}

/** The webhooks' `release.published` event, in the release's transaction (decision 0017). */
function recordPublished(ctx: Ctx, release: Release, files: ReleaseFile[]): Promise<void> {
  return recordWebhookEvent(
    ctx,
    "release.published",
    {
      releaseId: release.id,
      version: release.version,
      notes: release.notes,
      publishedAt: new Date(release.created_at).toISOString(),
      files: files.map((f) => ({ filename: f.filename, size: f.size, sha256: f.sha256 })),
      changes: JSON.parse(release.changes),
      notify: release.notify === 1,
    },
    { productId: release.product_id },
  );
}

export async function listReleases({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<ReleaseWithProgress[]> {
  requireAdmin(ctx);
  const product = await getProductForAdmin({ ctx, input: { slug: input.slug } });
  const rows = await db(ctx)
    .selectFrom("releases")
    .selectAll()
    .where("product_id", "=", product.id)
    .orderBy("seq", "desc")
    .execute();
  const progress = await noticeProgress(
    ctx,
    rows.filter((r) => r.notify === 1).map((r) => r.id),
  );
  return rows.map((row) => ({ ...releaseView(row), notices: progress.get(row.id) ?? null }));
}

async function withProgress(ctx: Ctx, row: Release): Promise<ReleaseWithProgress> {
  const progress = row.notify === 1 ? await noticeProgress(ctx, [row.id]) : new Map();
  return { ...releaseView(row), notices: progress.get(row.id) ?? null };
}

/** A product's releases, newest first (for the buyer's library; no actor check: callers do it). */
export async function releasesOf(ctx: Ctx, productIds: string[]): Promise<Release[]> {
  if (!productIds.length) return [];
  return db(ctx)
    .selectFrom("releases")
    .selectAll()
    .where("product_id", "in", productIds)
    .orderBy("seq", "desc")
    .execute();
}
