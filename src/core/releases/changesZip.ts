/**
 * "Only what changed" (issue 17, decision 0018): the files of a release that are added or changed
 * against an earlier one the buyer has, as one archive. Not a second way to download: each file is
 * a single download through downloadAsUser (checked before the answer, opened and logged when the
 * archive reaches it), exactly as "Download all" does (downloads/downloadAll.ts).
 */
import { denialReason, entitlementsOf, isActive } from "../access/accessRule.ts";
import { findProductBySlug, productNotFound } from "../catalog/products.ts";
import { type Ctx, db, requireUser } from "../context.ts";
import type { ClientInfo } from "../downloads/deliverAndRecord.ts";
import { archiveOf, type DownloadAll, type DownloadOne } from "../downloads/downloadAll.ts";
import { downloadAsUser } from "../downloads/downloadAsUser.ts";
import { forbidden, invalidInput, notFound } from "../errors.ts";
import { changedFiles, releaseView } from "./manifest.ts";

export async function downloadChangesAsUser({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; version: string; since: string; client: ClientInfo };
}): Promise<DownloadAll> {
  const user = requireUser(ctx);
  const product = await findProductBySlug(ctx, input.slug);
  if (!product) throw productNotFound();
  // Who may learn which releases exist: the product's owners, decided as a download is.
  const entitlements = await entitlementsOf(
    ctx,
    { userId: user.id, email: user.email },
    product.id,
  );
  if (!entitlements.some((e) => isActive(e, ctx.clock.now()))) {
    if (!product.active && entitlements.length === 0) throw productNotFound();
    throw forbidden(denialReason(entitlements, ctx.clock.now()));
  }
  const rows = await db(ctx)
    .selectFrom("releases")
    .selectAll()
    .where("product_id", "=", product.id)
    .where("version", "in", [input.version, input.since])
    .execute();
  const target = rows.find((r) => r.version === input.version);
  const since = rows.find((r) => r.version === input.since);
  if (!target) throw notFound(`${product.name} has no release ${input.version}.`);
  if (!since) throw notFound(`${product.name} has no release ${input.since}.`);
  if (since.seq >= target.seq)
    throw invalidInput(`${input.since} is not a release before ${input.version}.`, {
      fields: [{ field: "since", message: "must be an earlier release" }],
    });
  const wanted = changedFiles(releaseView(since).files, releaseView(target).files);
  if (!wanted.length)
    throw notFound(`No file was added or changed from ${input.since} to ${input.version}.`);
  const assets = await db(ctx)
    .selectFrom("assets")
    .selectAll()
    .where(
      "id",
      "in",
      wanted.map((f) => f.id),
    )
    .execute();
  const one: DownloadOne = (c, assetId, request) =>
    downloadAsUser({
      ctx: c,
      input: { slug: product.slug, assetId, request, client: input.client },
    });
  const all = await archiveOf(ctx, { slug: product.slug, name: product.name }, assets, one);
  return { ...all, filename: `${product.slug}-${target.version}-changes.zip` };
}
