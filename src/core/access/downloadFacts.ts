import { sql } from "kysely";
import type { Asset, Entitlement, Product } from "../../db/schema.ts";
import { slugSchema } from "../catalog/schemas.ts";
import { type Ctx, db } from "../context.ts";
import { cachedRead } from "../readCache.ts";
import type { Holder } from "./accessRule.ts";

// Every column of each table: the compiler refuses a column added to the schema but not here.
const PRODUCT: Record<keyof Product, true> = {
  id: true,
  slug: true,
  name: true,
  description: true,
  kind: true,
  price_amount: true,
  currency: true,
  interval: true,
  stripe_price_id: true,
  active: true,
  license_enabled: true,
  license_activation_limit: true,
  license_expires_with_access: true,
  cover_image: true,
  grace_past_due_days: true,
  grace_refund_revokes: true,
  grace_dispute_suspends: true,
  download_limit: true,
  stamp_pdfs: true,
  stamp_failure: true,
  tax_code: true,
  pwyw_minimum: true,
  pwyw_suggested: true,
  list_price: true,
  created_at: true,
  updated_at: true,
};
const ENTITLEMENT: Record<keyof Entitlement, true> = {
  id: true,
  user_id: true,
  email: true,
  product_id: true,
  source: true,
  source_ref: true,
  status: true,
  starts_at: true,
  ends_at: true,
  revoked_reason: true,
  created_at: true,
  updated_at: true,
  sharing_flagged_at: true,
};
const ASSET: Record<keyof Asset, true> = {
  id: true,
  product_id: true,
  filename: true,
  storage_key: true,
  size: true,
  sha256: true,
  content_type: true,
  version: true,
  active: true,
  created_at: true,
  scan_status: true,
  scan_detail: true,
  scanned_at: true,
};
const TABLES = { p: PRODUCT, e: ENTITLEMENT, a: ASSET };
// Written out once: building 34 column references per request cost more than the round trips.
const COLUMNS = sql.raw(
  Object.entries(TABLES)
    .flatMap(([t, columns]) => Object.keys(columns).map((c) => `"${t}"."${c}" as "${t}_${c}"`))
    .join(", "),
);

export interface DownloadFacts {
  product: Product;
  /** The holder's entitlements to the product, whatever their status. */
  entitlements: Entitlement[];
  /** The asked-for file when it is this product's, active or not. */
  asset: Asset | null;
}

/**
 * Everything a signed-in download is decided on, read in one query: the product by slug, the
 * holder's entitlements to it and the file. One round trip where there were three (DESIGN
 * section 12, docs/performance.md), kept a second at most (core/readCache.ts); the rules stay in
 * authorizeDownload. Null when there is no such product. Its join restates the access rule (`holds`, `heldBy` in accessRule.ts) for
 * speed: test/core/access-rule.test.ts proves it picks the same entitlements for every holder.
 */
export async function downloadFacts(
  ctx: Ctx,
  input: { slug: string; assetId: string; holder: Holder },
): Promise<DownloadFacts | null> {
  const slug = slugSchema.safeParse(input.slug);
  const { userId, email } = input.holder;
  if (!slug.success || (!userId && !email)) return null;
  const key = `facts:${slug.data}:${input.assetId}:${userId}:${email}`;
  return cachedRead(ctx, key, () => readFacts(ctx, slug.data, input.assetId, input.holder));
}

async function readFacts(
  ctx: Ctx,
  slug: string,
  assetId: string,
  { userId, email }: Holder,
): Promise<DownloadFacts | null> {
  // A null user id or email matches no row, as in the access rule (`heldBy`).
  const { rows } = await sql<Record<string, unknown>>`
    select ${COLUMNS} from products p
    left join entitlements e on e.product_id = p.id and (e.user_id = ${userId} or e.email = ${email})
    left join assets a on a.product_id = p.id and a.id = ${assetId}
    where p.slug = ${slug}`.execute(db(ctx));
  const [first] = rows;
  if (!first) return null;
  return {
    product: pick<Product>(first, "p") as Product,
    entitlements: rows.flatMap((row) => pick<Entitlement>(row, "e") ?? []),
    asset: pick<Asset>(first, "a"),
  };
}

/** One table's columns of a joined row; null where the left join found nothing. */
function pick<T>(row: Record<string, unknown>, table: keyof typeof TABLES): T | null {
  if (row[`${table}_id`] == null) return null;
  return Object.fromEntries(Object.keys(TABLES[table]).map((c) => [c, row[`${table}_${c}`]])) as T;
}
