import { gracePolicy } from "../core/catalog/grace.ts";
import { pricingOf } from "../core/catalog/pricing.ts";
import type { Settings } from "../core/context.ts";
import { isoTime as iso } from "../core/encoding.ts";
import { publicImageUrl } from "../core/images/publicImages.ts";
import type { ReleaseView } from "../core/releases/manifest.ts";
import type { Asset, Entitlement, Product } from "../db/schema.ts";

/**
 * A product as the admin API answers it; `publicUrl` makes the cover's URL absolute, and the
 * shop's refund setting fills in a grace policy that leaves refunds to it.
 */
export const productJson = (
  p: Product,
  settings: Pick<Settings, "publicUrl" | "refundRevokesAccess">,
) => ({
  id: p.id,
  slug: p.slug,
  name: p.name,
  description: p.description,
  kind: p.kind,
  price: { amount: p.price_amount, currency: p.currency },
  interval: p.interval,
  stripePriceId: p.stripe_price_id,
  active: p.active === 1,
  /** Published by the seller: on sale once it has an active file. */
  published: p.active === 1,
  license: {
    enabled: p.license_enabled === 1,
    activationLimit: p.license_activation_limit,
    expiresWithAccess: p.license_expires_with_access === 1,
  },
  /** The cover image's public, permanent URL (`{PUBLIC_URL}/images/...`); null without one. */
  /** What a failed subscription payment, a refund and a dispute do to access (decision 0020). */
  grace: gracePolicy(p, settings),
  coverUrl: p.cover_image
    ? new URL(publicImageUrl(p.cover_image), settings.publicUrl).toString()
    : null,
  /** Downloads of each file each buyer may make; null: no limit (decision 0021). */
  downloadLimit: p.download_limit,
  /** Buyers' PDFs stamped with their email, order and a trace id (decision 0026). */
  stamp: { pdfs: p.stamp_pdfs === 1, onFailure: p.stamp_failure },
  /** Pay what you want, a list price crossed out during a sale, the Stripe tax code (decision 0029). */
  ...pricingOf(p),
  createdAt: iso(p.created_at),
  updatedAt: iso(p.updated_at),
});

export const assetJson = (a: Asset) => ({
  id: a.id,
  productId: a.product_id,
  filename: a.filename,
  size: a.size,
  sha256: a.sha256,
  contentType: a.content_type,
  version: a.version,
  active: a.active === 1,
  createdAt: iso(a.created_at),
  scan: a.scan_status ?? "unscanned",
  signature: a.scan_status === "infected" ? a.scan_detail : null,
  scanError: a.scan_status === "failed" ? a.scan_detail : null,
  scannedAt: a.scanned_at === null ? null : iso(a.scanned_at),
});

export const entitlementJson = (
  e: Entitlement & { product_slug?: string; product_name?: string },
) => ({
  id: e.id,
  product: e.product_slug
    ? { id: e.product_id, slug: e.product_slug, name: e.product_name }
    : { id: e.product_id },
  email: e.email,
  userId: e.user_id,
  source: e.source,
  status: e.status,
  startsAt: iso(e.starts_at),
  endsAt: iso(e.ends_at),
  revokedReason: e.revoked_reason,
  createdAt: iso(e.created_at),
});

/** A release as buyers and the seller see it: version, notes, manifest, what changed. */
export const releaseJson = (r: ReleaseView) => ({
  id: r.id,
  version: r.version,
  notes: r.notes,
  publishedAt: iso(r.publishedAt),
  files: r.files.map((f) => ({ id: f.id, filename: f.filename, size: f.size, sha256: f.sha256 })),
  changes: r.changes,
});

export { iso };
