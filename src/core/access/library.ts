import type { Entitlement, Product } from "../../db/schema.ts";
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
  /** The paid order behind the access (a subscription's latest), when it came from one. */
  order?: { id: string; orderedAt: number; amount: number; currency: string } | null;
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
  const all = await entitlementsOf(ctx, { userId: user.id, email: user.email });
  const byProduct = new Map<string, Entitlement>();
  for (const e of all) {
    if (isActive(e, now) && !byProduct.has(e.product_id)) byProduct.set(e.product_id, e);
  }
  const ended = all.filter((e) => !byProduct.has(e.product_id));
  if (all.length === 0) return { items: [], ended: [] };
  const productIds = [...byProduct.keys()];
  const owned = productIds.length > 0;
  const [products, assets, downloads, orders] = await Promise.all([
    db(ctx)
      .selectFrom("products")
      .selectAll()
      .where("id", "in", [...new Set(all.map((e) => e.product_id))])
      .orderBy("name")
      .execute(),
    owned
      ? db(ctx)
          .selectFrom("assets")
          .selectAll()
          .where("product_id", "in", productIds)
          .where("active", "=", 1)
          .orderBy("filename")
          .execute()
      : [],
    owned
      ? db(ctx)
          .selectFrom("downloads")
          .select(["asset_id", (eb) => eb.fn.max("created_at").as("last")])
          .where(
            "entitlement_id",
            "in",
            [...byProduct.values()].map((e) => e.id),
          )
          .groupBy("asset_id")
          .execute()
      : [],
    owned ? ordersBehind(ctx, [...byProduct.values()]) : new Map<string, LibraryItem["order"]>(),
  ]);
  const lastDownload = new Map(downloads.map((d) => [d.asset_id, Number(d.last)]));
  const items = products.flatMap((p) => {
    const e = byProduct.get(p.id);
    if (!e) return [];
    return {
      product: { slug: p.slug, name: p.name, description: p.description, kind: p.kind },
      entitlement: { id: e.id, source: e.source, endsAt: e.ends_at },
      order: orders.get(e.id) ?? null,
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
  return { items, ended: endedPurchases(products, ended, now) };
}

/**
 * Each entitlement's order, for the buyer's record of it: the purchase's order, or the latest paid
 * order of the subscription (its renewals are orders too). One query for all of them.
 */
async function ordersBehind(
  ctx: Ctx,
  entitlements: Entitlement[],
): Promise<Map<string, LibraryItem["order"]>> {
  const purchases = entitlements.filter((e) => e.source === "purchase");
  const subscriptions = entitlements.filter((e) => e.source === "subscription");
  if (!purchases.length && !subscriptions.length) return new Map();
  const rows = await db(ctx)
    .selectFrom("orders")
    .select(["id", "subscription_id", "amount", "currency", "created_at", "updated_at"])
    .where("status", "in", ["paid", "refunded", "disputed"])
    .where((eb) =>
      eb.or([
        ...(purchases.length
          ? [
              eb(
                "id",
                "in",
                purchases.map((e) => e.source_ref),
              ),
            ]
          : []),
        ...(subscriptions.length
          ? [
              eb(
                "subscription_id",
                "in",
                subscriptions.map((e) => e.source_ref),
              ),
            ]
          : []),
      ]),
    )
    .orderBy("created_at", "desc")
    .execute();
  const found = new Map<string, LibraryItem["order"]>();
  for (const e of entitlements) {
    const row = rows.find((o) =>
      e.source === "purchase" ? o.id === e.source_ref : o.subscription_id === e.source_ref,
    );
    if (row)
      found.set(e.id, {
        id: row.id,
        orderedAt: Number(row.created_at),
        amount: row.amount,
        currency: row.currency,
      });
  }
  return found;
}

/** The order a product's ended purchases are told in: the first standing found wins. */
const ENDED_FIRST: EndedPurchase["status"][] = ["disputed", "refunded", "revoked", "expired"];

function endedPurchases(
  products: Pick<Product, "id" | "slug" | "name">[],
  ended: Entitlement[],
  now: number,
): EndedPurchase[] {
  return products.flatMap((p) => {
    const entitlements = ended.filter((e) => e.product_id === p.id);
    if (!entitlements.length) return [];
    const standings = new Set(entitlements.map((e) => accessStatus(e, now)));
    return {
      product: { slug: p.slug, name: p.name },
      status: ENDED_FIRST.find((s) => standings.has(s)) ?? "expired",
      reason: denialReason(entitlements, now),
    };
  });
}
