import type { ExpressionBuilder } from "kysely";
import type { Database, Entitlement } from "../../db/schema.ts";
import { type Ctx, db, normalizeEmail } from "../context.ts";
import { type AppError, forbidden, isAppError } from "../errors.ts";

export interface Holder {
  userId: string | null;
  /** Only a verified email: one the holder signed in with, or the one a token was issued to. */
  email: string | null;
}

/**
 * The access rule, "does this person own it": a holder owns an entitlement (or an order) whose
 * user id is theirs or whose email is their verified email, so a guest purchase is claimed by
 * signing in with the paying email. A holder with neither owns nothing.
 */
export function holds(holder: Holder, row: { user_id: string | null; email: string | null }) {
  return (
    (!!holder.userId && row.user_id === holder.userId) ||
    (!!holder.email && row.email === holder.email)
  );
}

/**
 * The rule as a condition on the entitlements table, for every query that asks it. The one other
 * form, the download's single query in downloadFacts.ts, is proven equal to both by
 * test/core/access-rule.test.ts.
 */
export function heldBy(holder: Holder) {
  return (eb: ExpressionBuilder<Database, "entitlements">) => {
    const mine = [];
    if (holder.userId) mine.push(eb("user_id", "=", holder.userId));
    if (holder.email) mine.push(eb("email", "=", holder.email));
    return eb.or(mine);
  };
}

/** The holder an email stands for in the seller's lists: that address and its account, if any. */
export async function holderOf(ctx: Ctx, email: string): Promise<Holder> {
  const address = normalizeEmail(email);
  const user = await db(ctx)
    .selectFrom("users")
    .select("id")
    .where("email", "=", address)
    .executeTakeFirst();
  return { userId: user?.id ?? null, email: address };
}

/** The holder's entitlements (to one product, when given), whatever their status. */
export async function entitlementsOf(
  ctx: Ctx,
  holder: Holder,
  productId?: string,
): Promise<Entitlement[]> {
  if (!holder.userId && !holder.email) return [];
  let query = db(ctx).selectFrom("entitlements").selectAll().where(heldBy(holder));
  if (productId) query = query.where("product_id", "=", productId);
  return query.execute();
}

export function isActive(
  e: Pick<Entitlement, "status" | "starts_at" | "ends_at">,
  now: number,
): boolean {
  return e.status === "active" && e.starts_at <= now && (e.ends_at === null || e.ends_at > now);
}

/** The active entitlement for one product, or a 403 that says in plain words why there is none. */
export async function requireAccess(
  ctx: Ctx,
  holder: Holder,
  productId: string,
): Promise<Entitlement> {
  const now = ctx.clock.now();
  const access = activeOrDenied(await entitlementsOf(ctx, holder, productId), now);
  if (isAppError(access)) throw access;
  return access;
}

/**
 * requireAccess for several holders and products at once (a batch of receipts' links): their
 * entitlements to those products read in one query, each ask then taking its own (`holds`) in
 * the order the database returned them. For each ask, in order: its active entitlement, or the
 * 403 requireAccess would throw.
 */
export async function accessOfEach(
  ctx: Ctx,
  asks: { holder: Holder; productId: string }[],
): Promise<(Entitlement | AppError)[]> {
  const now = ctx.clock.now();
  const userIds = [...new Set(asks.flatMap((a) => (a.holder.userId ? [a.holder.userId] : [])))];
  const emails = [...new Set(asks.flatMap((a) => (a.holder.email ? [a.holder.email] : [])))];
  const productIds = [...new Set(asks.map((a) => a.productId))];
  const rows =
    userIds.length || emails.length
      ? await db(ctx)
          .selectFrom("entitlements")
          .selectAll()
          .where("product_id", "in", productIds)
          .where((eb) => {
            const anyHolder = [];
            if (userIds.length) anyHolder.push(eb("user_id", "in", userIds));
            if (emails.length) anyHolder.push(eb("email", "in", emails));
            return eb.or(anyHolder);
          })
          .execute()
      : [];
  return asks.map(({ holder, productId }) =>
    activeOrDenied(
      rows.filter((e) => e.product_id === productId && holds(holder, e)),
      now,
    ),
  );
}

/** Of a holder's entitlements to one product: the first active one, or the 403 saying why none is. */
function activeOrDenied(entitlements: Entitlement[], now: number): Entitlement | AppError {
  return entitlements.find((e) => isActive(e, now)) ?? forbidden(denialReason(entitlements, now));
}

export function denialReason(entitlements: Entitlement[], now: number): string {
  if (entitlements.some((e) => e.status === "suspended")) {
    return "Access to this product is paused while a payment dispute is open.";
  }
  if (entitlements.some((e) => e.status === "revoked" && e.revoked_reason === "refunded")) {
    return "This purchase was refunded, so its files are no longer available.";
  }
  if (entitlements.some((e) => e.status === "revoked")) {
    return "Your access to this product has been revoked.";
  }
  if (entitlements.some((e) => e.ends_at !== null && e.ends_at <= now)) {
    return "Your subscription to this product has ended.";
  }
  return "You have not purchased this product.";
}

export type AccessStatus = "active" | "expired" | "refunded" | "disputed" | "revoked";

/** An entitlement's standing in one word, as the licence API and the customer state say it. */
export function accessStatus(
  e: Pick<Entitlement, "status" | "starts_at" | "ends_at" | "revoked_reason">,
  now: number,
): AccessStatus {
  if (isActive(e, now)) return "active";
  if (e.status === "suspended" || e.revoked_reason === "dispute lost") return "disputed";
  if (e.revoked_reason === "refunded") return "refunded";
  if (e.status === "revoked" && e.revoked_reason !== "subscription ended") return "revoked";
  return "expired";
}
