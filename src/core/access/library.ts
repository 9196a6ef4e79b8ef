import type { Entitlement, Order, Product } from "../../db/schema.ts";
import { type Ctx, db, requireUser } from "../context.ts";
import { byFileName } from "../downloads/fileOrder.ts";
import { downloadsLeft, usedDownloads } from "../downloads/limits.ts";
import { notFound, unavailable } from "../errors.ts";
import { type OrderCharges, orderCharges } from "../orders/charges.ts";
import { orderForViewer } from "../orders/confirmCheckout.ts";
import {
  type EndedReleases,
  endedReleases,
  type LibraryReleases,
  libraryReleases,
  releasesByProduct,
} from "../releases/buyerReleases.ts";
import {
  type AccessStatus,
  accessStatus,
  denialReason,
  entitlementsOf,
  holds,
  isActive,
} from "./accessRule.ts";

export interface LibraryItem {
  product: {
    slug: string;
    name: string;
    description: string;
    kind: string;
    coverImage?: string | null;
  };
  entitlement: { id: string; source: string; endsAt: number | null };
  /** The paid order behind the access (a subscription's latest), when it came from one. */
  order?: {
    id: string;
    orderedAt: number;
    amount: number;
    currency: string;
    /** What was charged (decision 0029): the price, discount, tax and total paid. */
    charges: OrderCharges;
    /** The country tax was computed for; the invoice the payment made, when it made one. */
    country: string | null;
    invoiceId: string | null;
    /** Our link that opens the payment's receipt or invoice at the provider (orderReceipt). */
    receiptUrl: string;
  } | null;
  /** Every file in one zip (GET /library/{slug}/all.zip); none in the seller's preview. */
  downloadAllUrl?: string | null;
  /** The product's releases (decision 0018); null: none published yet. */
  releases?: LibraryReleases | null;
  files: {
    id: string;
    filename: string;
    size: number;
    sha256: string;
    version: number;
    downloadUrl: string;
    lastDownloadedAt: number | null;
    /** Downloads of this file left under the product's limit (decision 0021); null: no limit. */
    downloadsLeft?: number | null;
  }[];
}

/** A purchase that no longer gives its files, and why, so the library never just goes quiet. */
export interface EndedPurchase {
  product: { slug: string; name: string };
  status: Exclude<AccessStatus, "active">;
  /** The same words a refused download says. */
  reason: string;
  /** The last release the access covered (decision 0018); null: the product has none. */
  releases?: EndedReleases | null;
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
  const [products, assets, downloads, orders, releases] = await Promise.all([
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
          .execute()
          .then((rows) => rows.sort(byFileName))
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
    releasesByProduct(ctx, [...new Set(all.map((e) => e.product_id))]),
  ]);
  const lastDownload = new Map(downloads.map((d) => [d.asset_id, Number(d.last)]));
  // Counted downloads are asked for only when an owned product has a download limit.
  const limitedIds = products.flatMap((p) =>
    p.download_limit === null ? [] : (byProduct.get(p.id)?.id ?? []),
  );
  const used = await usedDownloads(ctx, limitedIds);
  const items = products.flatMap((p) => {
    const e = byProduct.get(p.id);
    if (!e) return [];
    return {
      product: {
        slug: p.slug,
        name: p.name,
        description: p.description,
        kind: p.kind,
        coverImage: p.cover_image,
      },
      entitlement: { id: e.id, source: e.source, endsAt: e.ends_at },
      order: orders.get(e.id) ?? null,
      downloadAllUrl: `${ctx.settings.publicUrl}/library/${p.slug}/all.zip`,
      releases: libraryReleases(ctx, p.slug, releases.get(p.id)),
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
          downloadsLeft: downloadsLeft(p.download_limit, used.get(`${e.id}:${a.id}`) ?? 0),
        })),
    };
  });
  return {
    items,
    ended: endedPurchases(products, ended, now).map((p) => {
      const id = products.find((row) => row.slug === p.product.slug)?.id;
      const mine = ended.filter((e) => e.product_id === id);
      return { ...p, releases: endedReleases(mine, id ? releases.get(id) : undefined, now) };
    }),
  };
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
    .select([
      "id",
      "subscription_id",
      "amount",
      "amount_discount",
      "amount_tax",
      "amount_total",
      "buyer_country",
      "invoice_id",
      "currency",
      "created_at",
      "updated_at",
    ])
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
        charges: orderCharges(row),
        country: row.buyer_country,
        invoiceId: row.invoice_id,
        receiptUrl: receiptPath(row.id),
      });
  }
  return found;
}

/** Where the buyer opens an order's receipt: GET /library/orders/{orderId}/receipt. */
export const receiptPath = (orderId: string) =>
  `/library/orders/${encodeURIComponent(orderId)}/receipt`;

/** Orders a payment provider has a receipt or invoice for. */
const RECEIPTED: Order["status"][] = ["paid", "refunded", "disputed"];
const ORDER_ID = /^ord_[A-Za-z0-9_-]{1,64}$/;
/** A remembered link is used for a day, then asked for again (the provider's links may change). */
export const RECEIPT_LINK_TTL_MS = 24 * 3600 * 1000;

export type OrderReceipt =
  | { url: string }
  | {
      url: null;
      order: {
        id: string;
        productName: string;
        orderedAt: number;
        amount: number;
        currency: string;
      };
    };

/**
 * The payment provider's receipt (or invoice) page of one of the signed-in buyer's paid orders:
 * remembered on the order once asked for, so only the first opening (and one a day after) asks
 * the provider; never asked on the webhook path. An unknown, malformed or someone else's order id
 * gets the same 404, signed in or not, so the answer tells nothing about other buyers' orders.
 * `url: null` when the provider has no such page for the payment.
 */
export async function orderReceipt({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { orderId: string };
}): Promise<OrderReceipt> {
  const none = () => notFound("There is no such order in your library.");
  const user = ctx.actor.user;
  if (!user || !ORDER_ID.test(input.orderId)) throw none();
  const order = await db(ctx)
    .selectFrom("orders")
    .selectAll()
    .where("id", "=", input.orderId)
    .executeTakeFirst();
  if (!order || !holds({ userId: user.id, email: user.email }, order)) throw none();
  if (!RECEIPTED.includes(order.status)) throw none();
  return receiptOf(ctx, order);
}

/**
 * The receipt of the purchase a checkout session id shows, for the success page's guest buyer
 * (GET /checkout/receipt?session_id=): the same proof, and the same window, as its downloads.
 */
export async function checkoutReceipt({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sessionId: string };
}): Promise<OrderReceipt> {
  const order = await orderForViewer(ctx, input.sessionId);
  if (!RECEIPTED.includes(order.status))
    throw notFound("This purchase has no receipt yet: its payment is not confirmed.");
  return receiptOf(ctx, order);
}

async function receiptOf(ctx: Ctx, order: Order): Promise<OrderReceipt> {
  const now = ctx.clock.now();
  const remembered = order.receipt_url;
  if (remembered && now - Number(order.receipt_url_at ?? 0) < RECEIPT_LINK_TTL_MS)
    return { url: remembered };
  let link: Awaited<ReturnType<Ctx["payments"]["receiptLink"]>>;
  try {
    link = await ctx.payments.receiptLink({
      checkoutSessionId: order.checkout_session_id,
      paymentIntentId: order.payment_intent_id,
    });
  } catch (error) {
    ctx.log.warn("receipt link: provider unreachable", {
      orderId: order.id,
      error: String(error),
    });
    if (remembered) return { url: remembered };
    throw unavailable(
      "The payment provider is not answering right now, so your receipt cannot be opened. Please try again in a few minutes.",
    );
  }
  if (!link || !isWebUrl(link.url)) {
    const product = await db(ctx)
      .selectFrom("products")
      .select("name")
      .where("id", "=", order.product_id)
      .executeTakeFirst();
    return {
      url: null,
      order: {
        id: order.id,
        productName: product?.name ?? "",
        orderedAt: Number(order.created_at),
        amount: order.amount,
        currency: order.currency,
      },
    };
  }
  await db(ctx)
    .updateTable("orders")
    .set({ receipt_url: link.url, receipt_url_at: now })
    .where("id", "=", order.id)
    .execute();
  return { url: link.url };
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

/** Only a web page is followed: the link is answered as a redirect. */
function isWebUrl(url: string): boolean {
  try {
    return ["https:", "http:"].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}
