import type { DeliveryToken, Entitlement } from "../../db/schema.ts";
import { type AccessStatus, accessStatus } from "../access/accessRule.ts";
import { type Ctx, db, normalizeEmail, requireAdmin } from "../context.ts";
import { notFound } from "../errors.ts";

/**
 * A link works only while the access behind it does: past its own revocation, expiry and uses,
 * a link shows its access's standing (refunded, disputed, revoked, expired), as downloads apply it.
 */
export type TokenStatus =
  | "active"
  | "expired"
  | "used_up"
  | "revoked"
  | `access_${Exclude<AccessStatus, "active">}`;

export interface TokenRow {
  id: string;
  productSlug: string;
  productName: string;
  /** Who the link is for: the entitlement's email, or its account's email. */
  owner: string | null;
  /** Set when the link gives one file only. */
  filename: string | null;
  createdAt: number;
  expiresAt: number;
  /** A link that starts at first use: its window in seconds, and when it was first used. */
  afterFirstUse: number | null;
  firstUsedAt: number | null;
  uses: number;
  maxUses: number | null;
  status: TokenStatus;
}

/** Why a link does or does not work any more; the first reason wins. */
export function tokenStatus(
  t: Pick<DeliveryToken, "revoked_at" | "expires_at" | "uses" | "max_uses">,
  access: Pick<Entitlement, "status" | "starts_at" | "ends_at" | "revoked_reason">,
  now: number,
): TokenStatus {
  if (t.revoked_at !== null) return "revoked";
  const standing = accessStatus(access, now);
  if (standing !== "active") return `access_${standing}`;
  if (t.expires_at <= now) return "expired";
  if (t.max_uses !== null && t.uses >= t.max_uses) return "used_up";
  return "active";
}

/** Download links, newest first, optionally for one owner's email. */
export async function listTokens({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit: number; email?: string };
}): Promise<TokenRow[]> {
  requireAdmin(ctx);
  let query = db(ctx)
    .selectFrom("delivery_tokens as t")
    .innerJoin("entitlements as e", "e.id", "t.entitlement_id")
    .innerJoin("products as p", "p.id", "e.product_id")
    .leftJoin("users as u", "u.id", "e.user_id")
    .leftJoin("assets as a", "a.id", "t.asset_id")
    .select([
      "t.id",
      "t.created_at",
      "t.expires_at",
      "t.expires_after_first_use",
      "t.first_used_at",
      "t.uses",
      "t.max_uses",
      "t.revoked_at",
      "p.slug as product_slug",
      "p.name as product_name",
      "e.email",
      "u.email as user_email",
      "a.filename",
      "e.status",
      "e.starts_at",
      "e.ends_at",
      "e.revoked_reason",
    ]);
  if (input.email) {
    const email = normalizeEmail(input.email);
    query = query.where((eb) => eb.or([eb("e.email", "=", email), eb("u.email", "=", email)]));
  }
  const rows = await query
    .orderBy("t.created_at", "desc")
    .orderBy("t.id", "desc")
    .limit(input.limit)
    .execute();
  const now = ctx.clock.now();
  return rows.map((t) => ({
    id: t.id,
    productSlug: t.product_slug,
    productName: t.product_name,
    owner: t.email ?? t.user_email,
    filename: t.filename,
    createdAt: t.created_at,
    expiresAt: t.expires_at,
    afterFirstUse: t.expires_after_first_use,
    firstUsedAt: t.first_used_at,
    uses: t.uses,
    maxUses: t.max_uses,
    status: tokenStatus(t, t, now),
  }));
}

/** Stops a download link from working at once; revoking it again changes nothing. */
export async function revokeToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { tokenId: string };
}): Promise<{ id: string; revokedAt: number }> {
  requireAdmin(ctx);
  const token = await db(ctx)
    .selectFrom("delivery_tokens")
    .select(["id", "revoked_at"])
    .where("id", "=", input.tokenId)
    .executeTakeFirst();
  if (!token) throw notFound("There is no such download link.");
  if (token.revoked_at !== null) return { id: token.id, revokedAt: token.revoked_at };
  const now = ctx.clock.now();
  await db(ctx)
    .updateTable("delivery_tokens")
    .set({ revoked_at: now })
    .where("id", "=", token.id)
    .where("revoked_at", "is", null)
    .execute();
  ctx.log.info("download link revoked", { tokenId: token.id });
  return { id: token.id, revokedAt: now };
}
