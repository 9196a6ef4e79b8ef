import type { Entitlement } from "../../db/schema.ts";
import { type Ctx, db, requireUser } from "../context.ts";
import { entitlementsOf, isActive } from "./accessRule.ts";

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

/** What the signed-in user owns: each product with an active entitlement and its current files. */
export async function getLibrary({ ctx }: { ctx: Ctx }): Promise<LibraryItem[]> {
  const user = requireUser(ctx);
  const now = ctx.clock.now();
  const byProduct = new Map<string, Entitlement>();
  for (const e of await entitlementsOf(ctx, { userId: user.id, email: user.email })) {
    if (isActive(e, now) && !byProduct.has(e.product_id)) byProduct.set(e.product_id, e);
  }
  if (byProduct.size === 0) return [];
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
  return products.map((p) => {
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
}
