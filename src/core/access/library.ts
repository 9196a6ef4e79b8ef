import type { Entitlement } from "../../db/schema.ts";
import { type Ctx, db, requireUser } from "../context.ts";
import {
  type AccessStatus,
  accessStatus,
  denialReason,
  entitlementsOf,
  isActive,
} from "./accessRule.ts";

export interface LibraryItem {
  product: { slug: string; name: string; description: string; kind: string };
  entitlement: { id: string; source: string; endsAt: number | null };
  files: {
    id: string;
    filename: string;
    size: number;
    sha256: string;
    version: number;
    downloadUrl: string;
    lastDownloadedAt: number | null;
  }[];
}

/** A purchase that no longer gives its files, and why, so the library never just goes quiet. */
export interface EndedPurchase {
  product: { slug: string; name: string };
  status: Exclude<AccessStatus, "active">;
  /** The same words a refused download says. */
  reason: string;
}

/**
 * What the signed-in user owns: each product with an active entitlement and its current files,
 * and the products whose purchases ended (refunded, disputed, revoked, expired) with the reason.
 */
export async function getLibrary({
  ctx,
}: {
  ctx: Ctx;
}): Promise<{ items: LibraryItem[]; ended: EndedPurchase[] }> {
  const user = requireUser(ctx);
  const now = ctx.clock.now();
  const byProduct = new Map<string, Entitlement>();
  const endedByProduct = new Map<string, Entitlement[]>();
  const all = await entitlementsOf(ctx, { userId: user.id, email: user.email });
  for (const e of all) {
    if (isActive(e, now) && !byProduct.has(e.product_id)) byProduct.set(e.product_id, e);
  }
  for (const e of all) {
    if (byProduct.has(e.product_id)) continue;
    endedByProduct.set(e.product_id, [...(endedByProduct.get(e.product_id) ?? []), e]);
  }
  const ended = await endedPurchases(ctx, endedByProduct, now);
  if (byProduct.size === 0) return { items: [], ended };
  const productIds = [...byProduct.keys()];
  const [products, assets, downloads] = await Promise.all([
    db(ctx)
      .selectFrom("products")
      .selectAll()
      .where("id", "in", productIds)
      .orderBy("name")
      .execute(),
    db(ctx)
      .selectFrom("assets")
      .selectAll()
      .where("product_id", "in", productIds)
      .where("active", "=", 1)
      .orderBy("filename")
      .execute(),
    db(ctx)
      .selectFrom("downloads")
      .select(["asset_id", (eb) => eb.fn.max("created_at").as("last")])
      .where(
        "entitlement_id",
        "in",
        [...byProduct.values()].map((e) => e.id),
      )
      .groupBy("asset_id")
      .execute(),
  ]);
  const lastDownload = new Map(downloads.map((d) => [d.asset_id, Number(d.last)]));
  const items = products.map((p) => {
    const e = byProduct.get(p.id) as Entitlement;
    return {
      product: { slug: p.slug, name: p.name, description: p.description, kind: p.kind },
      entitlement: { id: e.id, source: e.source, endsAt: e.ends_at },
      files: assets
        .filter((a) => a.product_id === p.id)
        .map((a) => ({
          id: a.id,
          filename: a.filename,
          size: a.size,
          sha256: a.sha256,
          version: a.version,
          downloadUrl: `${ctx.settings.publicUrl}/download/${p.slug}/${a.id}`,
          lastDownloadedAt: lastDownload.get(a.id) ?? null,
        })),
    };
  });
  return { items, ended };
}

async function endedPurchases(
  ctx: Ctx,
  byProduct: Map<string, Entitlement[]>,
  now: number,
): Promise<EndedPurchase[]> {
  if (byProduct.size === 0) return [];
  const products = await db(ctx)
    .selectFrom("products")
    .select(["id", "slug", "name"])
    .where("id", "in", [...byProduct.keys()])
    .orderBy("name")
    .execute();
  return products.map((p) => {
    const entitlements = byProduct.get(p.id) ?? [];
    const latest = entitlements.reduce((a, b) => (b.updated_at > a.updated_at ? b : a));
    return {
      product: { slug: p.slug, name: p.name },
      status: accessStatus(latest, now) as EndedPurchase["status"],
      reason: denialReason(entitlements, now),
    };
  });
}
