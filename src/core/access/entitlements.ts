import type { Entitlement, EntitlementSource } from "../../db/schema.ts";
import { type Ctx, db, newId, normalizeEmail, requireAdmin, withTransaction } from "../context.ts";
import { invalidInput, notFound } from "../errors.ts";
import { issueLicense } from "../licenses/keys.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";
import { heldBy, holderOf } from "./accessRule.ts";
import { recordAccessChange } from "./history.ts";

/** Why a new entitlement exists, as its first line in the access history says. */
const GRANT_REASONS: Record<EntitlementSource, string> = {
  purchase: "payment confirmed",
  subscription: "subscription payment confirmed",
  grant: "given without payment",
  free: "free product claimed",
};

export interface Owner {
  userId?: string | null;
  email?: string | null;
}

export interface GrantAccessInput {
  productId: string;
  owner: Owner;
  source: EntitlementSource;
  /** What grants it (order, subscription, or the owner for grants and free claims). */
  sourceRef: string;
  endsAt?: number | null;
  /** Turn a revoked entitlement of the same source back on (an admin granting again). */
  reactivate?: boolean;
}

/**
 * The one path that gives access. Idempotent: an entitlement is unique per product, source and
 * source ref, so a retried or concurrent call finds the row the first call made. A new
 * entitlement of a product with licences on gets its key in the same transaction.
 */
export async function grantAccess({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: GrantAccessInput;
}): Promise<Entitlement> {
  const email = input.owner.email ? normalizeEmail(input.owner.email) : null;
  const userId = input.owner.userId ?? null;
  if (!email && !userId) throw invalidInput("An entitlement needs an email or a user id.");
  const now = ctx.clock.now();
  return withTransaction(ctx, async (tx) => {
    const inserted = await db(tx)
      .insertInto("entitlements")
      .values({
        id: newId(ctx, "ent"),
        user_id: userId,
        email,
        product_id: input.productId,
        source: input.source,
        source_ref: input.sourceRef,
        status: "active",
        starts_at: now,
        ends_at: input.endsAt ?? null,
        revoked_reason: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(["product_id", "source", "source_ref"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    // A new grant comes back from the insert; a repeated one (a redelivered event) is read.
    let changed = inserted !== undefined;
    if (inserted) {
      await issueLicense(tx, inserted);
      await recordAccessChange(tx, inserted, "granted", GRANT_REASONS[input.source]);
    }
    let row =
      inserted ??
      (await db(tx)
        .selectFrom("entitlements")
        .selectAll()
        .where("product_id", "=", input.productId)
        .where("source", "=", input.source)
        .where("source_ref", "=", input.sourceRef)
        .executeTakeFirstOrThrow());
    if (row.status !== "active" && input.reactivate) {
      const changes = {
        status: "active" as const,
        revoked_reason: null,
        ends_at: input.endsAt ?? null,
        updated_at: now,
      };
      await db(tx).updateTable("entitlements").set(changes).where("id", "=", row.id).execute();
      await recordAccessChange(tx, row, "restored", "granted again");
      row = { ...row, ...changes };
      changed = true;
    }
    if (changed) {
      await recordWebhookEvent(tx, "access.granted", accessData(row), {
        productId: row.product_id,
      });
      ctx.log.info("access granted", {
        entitlementId: row.id,
        productId: input.productId,
        source: input.source,
      });
    }
    return row;
  });
}

export async function revokeEntitlement({
  ctx,
  input,
}: {
  ctx: Ctx;
  /** A reason that is not text is none: the seller's default applies. */
  input: { entitlementId: string; reason?: unknown };
}): Promise<Entitlement> {
  requireAdmin(ctx);
  const row = await db(ctx)
    .selectFrom("entitlements")
    .selectAll()
    .where("id", "=", input.entitlementId)
    .executeTakeFirst();
  if (!row) throw notFound("There is no such entitlement.");
  const changes = {
    status: "revoked" as const,
    revoked_reason:
      (typeof input.reason === "string" && input.reason.slice(0, 200)) || "revoked by the seller",
    updated_at: ctx.clock.now(),
  };
  await withTransaction(ctx, async (tx) => {
    // Only the statement that takes access away tells of it, so a concurrent revoke does not.
    const taken = await db(tx)
      .updateTable("entitlements")
      .set(changes)
      .where("id", "=", row.id)
      .where("status", "!=", "revoked")
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) {
      // Revoked already: the new reason is kept, nothing more happened.
      await db(tx).updateTable("entitlements").set(changes).where("id", "=", row.id).execute();
      return;
    }
    await recordWebhookEvent(tx, "access.revoked", accessData({ ...row, ...changes }), {
      productId: row.product_id,
    });
    await recordAccessChange(tx, row, "revoked", changes.revoked_reason);
  });
  ctx.log.info("access revoked", { entitlementId: row.id, reason: changes.revoked_reason });
  return { ...row, ...changes };
}

export interface EntitlementView extends Entitlement {
  product_slug: string;
  product_name: string;
}

/** Admin listing, optionally for one email (what that address and its account hold). */
export async function listEntitlements({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email?: string; productSlug?: string; limit?: number };
}): Promise<EntitlementView[]> {
  requireAdmin(ctx);
  let query = db(ctx)
    .selectFrom("entitlements")
    .innerJoin("products as p", "p.id", "entitlements.product_id")
    .selectAll("entitlements")
    .select(["p.slug as product_slug", "p.name as product_name"])
    .orderBy("entitlements.created_at", "desc")
    .limit(Math.min(input.limit ?? 200, 1000));
  if (input.email) query = query.where(heldBy(await holderOf(ctx, input.email)));
  if (input.productSlug) query = query.where("p.slug", "=", input.productSlug);
  return query.execute();
}

/** Revokes every active entitlement an email (or its user) holds for one product. */
export async function revokeAccessOf({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: string; productId: string; reason?: string };
}): Promise<number> {
  requireAdmin(ctx);
  const held = await listEntitlements({ ctx, input: { email: input.email } });
  const active = held.filter((e) => e.product_id === input.productId && e.status === "active");
  for (const e of active) {
    await revokeEntitlement({
      ctx,
      input: { entitlementId: e.id, ...(input.reason ? { reason: input.reason } : {}) },
    });
  }
  return active.length;
}

/** What access.granted and access.revoked tell of an entitlement (docs/webhooks.md). */
export function accessData(
  e: Pick<
    Entitlement,
    "id" | "email" | "user_id" | "source" | "source_ref" | "status" | "ends_at" | "revoked_reason"
  >,
) {
  return {
    entitlementId: e.id,
    email: e.email,
    userId: e.user_id,
    source: e.source,
    orderId: e.source === "purchase" ? e.source_ref : null,
    subscriptionId: e.source === "subscription" ? e.source_ref : null,
    status: e.status,
    endsAt: e.ends_at === null ? null : new Date(Number(e.ends_at)).toISOString(),
    reason: e.revoked_reason,
  };
}
