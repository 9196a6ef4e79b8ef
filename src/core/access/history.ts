import type { AccessChange, Entitlement } from "../../db/schema.ts";
import { type Ctx, db, newTimeOrderedId } from "../context.ts";

/**
 * The access history (issue 18): one row per change to an entitlement, written in the change's
 * own transaction (call it with the transaction's ctx), so the history never says something
 * happened that rolled back, nor misses what did.
 */
export async function recordAccessChange(
  ctx: Ctx,
  entitlement: Pick<Entitlement, "id" | "product_id">,
  change: AccessChange,
  reason: string | null = null,
): Promise<void> {
  await db(ctx)
    .insertInto("access_events")
    .values({
      id: newTimeOrderedId(ctx, "acc"),
      entitlement_id: entitlement.id,
      product_id: entitlement.product_id,
      change,
      by: whoActs(ctx),
      reason,
      created_at: ctx.clock.now(),
    })
    .execute();
}

/** Who the history says made a change: the cause the caller set, else the actor. */
export function whoActs(ctx: Ctx): string {
  if (ctx.cause) return ctx.cause;
  // An admin signed in by session also has a user: what they do here is the seller's doing.
  if (ctx.actor.admin) return "seller";
  return ctx.actor.user ? "buyer" : "system";
}

/** Why access that ran out ended, in the history's words. */
export const expiryReason = (e: Pick<Entitlement, "source">): string =>
  e.source === "subscription" ? "the paid period ended" : "the access period ended";

/**
 * Access that ran out is not a change anybody makes, so it is not recorded when it happens; a
 * change that follows it (a reopen) records it first, at the time it ran out, so the history
 * reads in order: expired, then reopened.
 */
export async function recordExpiryIfPassed(
  ctx: Ctx,
  e: Pick<Entitlement, "id" | "product_id" | "source" | "status" | "ends_at">,
): Promise<void> {
  const endedAt = e.ends_at === null ? null : Number(e.ends_at);
  if (e.status !== "active" || endedAt === null || endedAt > ctx.clock.now()) return;
  const atExpiry: Ctx = { ...ctx, cause: "system", clock: { now: () => endedAt } };
  await recordAccessChange(atExpiry, e, "expired", expiryReason(e));
}
