import type { Entitlement, License, LicenseActivation, Product } from "../../db/schema.ts";
import { type AccessStatus, accessStatus, denialReason } from "../access/accessRule.ts";
import { type Ctx, db } from "../context.ts";
import { isoTime } from "../encoding.ts";
import { AppError } from "../errors.ts";
import { cachedRead } from "../readCache.ts";
import { KEY_PATTERN } from "./schemas.ts";

/** What a key stands for: the licence, the entitlement it came with, and its product's settings. */
export interface LicenseFacts {
  license: License;
  entitlement: Entitlement;
  product: Pick<
    Product,
    "id" | "slug" | "name" | "license_activation_limit" | "license_expires_with_access"
  >;
}

export type LicenseStatus = AccessStatus;

export interface LicenseState {
  status: LicenseStatus;
  /** Why it is not active, in the words downloads use. */
  reason: string | null;
  /** When it stops working, if ever (the access's end, for keys that end with it). */
  expiresAt: number | null;
  activationLimit: number | null;
}

/**
 * The licence's standing now. The entitlement decides, by the rules and at the moment that
 * downloads do (accessRule.ts): a refund, a dispute or a revocation stops the key at once; the
 * end of access stops it too unless the product's keys never expire. A key the seller revoked
 * is revoked whatever its entitlement says.
 */
export function licenseState({ license, entitlement: e, product }: LicenseFacts, now: number) {
  const endsWithAccess = product.license_expires_with_access === 1;
  const state = (status: LicenseStatus, reason: string | null): LicenseState => ({
    status,
    reason,
    expiresAt: endsWithAccess ? e.ends_at : null,
    activationLimit: license.activation_limit ?? product.license_activation_limit,
  });
  if (license.revoked_at !== null) return state("revoked", "This licence key has been revoked.");
  const status = accessStatus(e, now);
  if (status === "active" || (status === "expired" && !endsWithAccess))
    return state("active", null);
  return state(
    status,
    status === "expired"
      ? "This licence ended with your access to the product."
      : denialReason([e], now),
  );
}

const SELECT = {
  license: [
    "l.id",
    "l.key",
    "l.entitlement_id",
    "l.product_id",
    "l.activation_limit",
    "l.revoked_at",
    "l.revoked_reason",
    "l.created_at",
    "l.updated_at",
  ],
} as const;

/**
 * A licence by its key, with its entitlement and product, in one query. Unknown and malformed
 * keys are both undefined. Through the read cache (at most a second old, forgotten on every
 * write to the access tables) unless `fresh`.
 */
export function licenseByKey(
  ctx: Ctx,
  key: string,
  { fresh = false } = {},
): Promise<LicenseFacts | undefined> {
  if (!KEY_PATTERN.test(key)) return Promise.resolve(undefined);
  const load = () => loadLicenses(ctx, { key });
  return (fresh ? load() : cachedRead(ctx, `license:${key}`, load)).then((rows) => rows[0]);
}

/** Licences with their entitlements and products, by key, id, or product. */
export async function loadLicenses(
  ctx: Ctx,
  where: { key?: string; id?: string; entitlementIds?: string[] },
): Promise<LicenseFacts[]> {
  let query = db(ctx)
    .selectFrom("licenses as l")
    .innerJoin("entitlements as e", "e.id", "l.entitlement_id")
    .innerJoin("products as p", "p.id", "l.product_id")
    .select(SELECT.license)
    .select([
      "e.id as e_id",
      "e.user_id as e_user_id",
      "e.email as e_email",
      "e.product_id as e_product_id",
      "e.source as e_source",
      "e.source_ref as e_source_ref",
      "e.status as e_status",
      "e.starts_at as e_starts_at",
      "e.ends_at as e_ends_at",
      "e.revoked_reason as e_revoked_reason",
      "e.created_at as e_created_at",
      "e.updated_at as e_updated_at",
      "e.sharing_flagged_at as e_sharing_flagged_at",
      "p.slug as p_slug",
      "p.name as p_name",
      "p.license_activation_limit as p_limit",
      "p.license_expires_with_access as p_expires",
    ]);
  if (where.key !== undefined) query = query.where("l.key", "=", where.key);
  if (where.id !== undefined) query = query.where("l.id", "=", where.id);
  if (where.entitlementIds) {
    if (where.entitlementIds.length === 0) return [];
    query = query.where("l.entitlement_id", "in", where.entitlementIds);
  }
  const rows = await query.orderBy("l.created_at", "desc").execute();
  return rows.map((r) => ({
    license: {
      id: r.id,
      key: r.key,
      entitlement_id: r.entitlement_id,
      product_id: r.product_id,
      activation_limit: r.activation_limit,
      revoked_at: num(r.revoked_at),
      revoked_reason: r.revoked_reason,
      created_at: Number(r.created_at),
      updated_at: Number(r.updated_at),
    },
    entitlement: {
      id: r.e_id,
      user_id: r.e_user_id,
      email: r.e_email,
      product_id: r.e_product_id,
      source: r.e_source,
      source_ref: r.e_source_ref,
      status: r.e_status,
      starts_at: Number(r.e_starts_at),
      ends_at: num(r.e_ends_at),
      revoked_reason: r.e_revoked_reason,
      created_at: Number(r.e_created_at),
      updated_at: Number(r.e_updated_at),
      sharing_flagged_at: num(r.e_sharing_flagged_at),
    },
    product: {
      id: r.product_id,
      slug: r.p_slug,
      name: r.p_name,
      license_activation_limit: r.p_limit,
      license_expires_with_access: r.p_expires,
    },
  }));
}

const num = (v: number | null) => (v === null ? null : Number(v));

/** The activations of these licences, oldest first. */
export function activationsOf(ctx: Ctx, licenseIds: string[]): Promise<LicenseActivation[]> {
  if (licenseIds.length === 0) return Promise.resolve([]);
  return db(ctx)
    .selectFrom("license_activations")
    .selectAll()
    .where("license_id", "in", licenseIds)
    .orderBy("first_seen_at")
    .orderBy("id")
    .execute();
}

export const activationJson = (a: LicenseActivation) => ({
  id: a.id,
  fingerprint: a.fingerprint,
  label: a.label,
  firstSeenAt: isoTime(Number(a.first_seen_at)),
  lastSeenAt: isoTime(Number(a.last_seen_at)),
});

/** The licence as the seller's app sees it: no owner, no order. */
export function publicLicenseJson(facts: LicenseFacts, activations: number, now: number) {
  const state = licenseState(facts, now);
  return {
    product: facts.product.slug,
    status: state.status,
    expiresAt: isoTime(state.expiresAt),
    activations,
    activationLimit: state.activationLimit,
  };
}

/** One answer for unknown and malformed keys. */
export const unknownKey = () =>
  new AppError("not_found", "There is no licence with this key. Check it was copied in full.", {
    answer: { code: "not_found", valid: false },
  });
