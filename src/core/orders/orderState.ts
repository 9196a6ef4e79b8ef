import { sql, type Updateable } from "kysely";
import type {
  AccessChange,
  EntitlementStatus,
  Order,
  OrderStatus,
  OrdersTable,
} from "../../db/schema.ts";
import { accessData } from "../access/entitlements.ts";
import { recordAccessChange } from "../access/history.ts";
import { type Ctx, db } from "../context.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";

/**
 * Order transitions are monotonic: each names the states it may leave, and the conditional UPDATE
 * makes a late or repeated event a no-op (a refunded order never becomes paid again). `also` is
 * written in the same statement, only when the transition happens.
 */
export const TRANSITIONS: Record<
  "paid" | "failed" | "abandoned" | "refunded" | "disputed" | "won",
  { to: OrderStatus; from: OrderStatus[] }
> = {
  paid: { to: "paid", from: ["pending", "failed", "abandoned"] },
  failed: { to: "failed", from: ["pending"] },
  abandoned: { to: "abandoned", from: ["pending"] },
  refunded: { to: "refunded", from: ["pending", "paid", "disputed", "failed", "abandoned"] },
  disputed: { to: "disputed", from: ["paid"] },
  won: { to: "paid", from: ["disputed"] },
};

export async function transition(
  ctx: Ctx,
  order: Order,
  name: keyof typeof TRANSITIONS,
  also: Updateable<OrdersTable> = {},
): Promise<boolean> {
  const { to, from } = TRANSITIONS[name];
  // Written out in SQL: on the webhook's hot path, building it with Kysely cost more than
  // running it. The columns of `also` are the schema's (typed), never input.
  const set = Object.entries({ ...also, status: to, updated_at: ctx.clock.now() })
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  const result = await sql`update orders set ${sql.join(set)}
      where id = ${order.id} and status in (${sql.join(from)})
      ${to === "paid" ? sql`and flag is null` : sql``}`.execute(db(ctx));
  return Number(result.numAffectedRows ?? 0) === 1;
}

export type OrderKeys = {
  orderId?: string | null;
  sessionId?: string | null;
  paymentIntentId?: string | null;
  subscriptionId?: string | null;
};

/** The order an event is about: by our own id first, then by the provider's ids we recorded
 * (the newest, should a stateless mock have handed the same id to several). */
export async function findOrder(ctx: Ctx, keys: OrderKeys): Promise<Order | undefined> {
  const by = async (
    column: "id" | "checkout_session_id" | "payment_intent_id" | "subscription_id",
    value?: string | null,
  ) =>
    value
      ? (
          await sql<Order>`select * from orders where ${sql.ref(column)} = ${value}
              order by created_at desc limit 1`.execute(db(ctx))
        ).rows[0]
      : undefined;
  return (
    (await by("id", keys.orderId)) ??
    (await by("checkout_session_id", keys.sessionId)) ??
    (await by("payment_intent_id", keys.paymentIntentId)) ??
    (await by("subscription_id", keys.subscriptionId))
  );
}

/** The entitlement an order grants: the purchase itself, or the subscription it started. */
export function entitlementRef(
  order: Order,
): { source: "purchase" | "subscription"; sourceRef: string } | null {
  if (order.subscription_id) return { source: "subscription", sourceRef: order.subscription_id };
  return { source: "purchase", sourceRef: order.id };
}

/**
 * Sets the status of the entitlement an order granted, only from the given statuses. A change of
 * status goes into the access history with `reason` (else the revoked reason, else what it means
 * for an order: a dispute opened, or won); a new `endsAt` alone (a renewal) does not.
 */
export async function setOrderAccess(
  ctx: Ctx,
  order: Order,
  to: EntitlementStatus,
  from: EntitlementStatus[],
  changes: { revokedReason?: string | null; endsAt?: number | null; reason?: string } = {},
): Promise<boolean> {
  const ref = entitlementRef(order);
  if (!ref) return false;
  const update = (statuses: EntitlementStatus[]) =>
    db(ctx)
      .updateTable("entitlements")
      .set({
        status: to,
        updated_at: ctx.clock.now(),
        ...(changes.revokedReason !== undefined ? { revoked_reason: changes.revokedReason } : {}),
        ...(changes.endsAt !== undefined ? { ends_at: changes.endsAt } : {}),
      })
      .where("product_id", "=", order.product_id)
      .where("source", "=", ref.source)
      .where("source_ref", "=", ref.sourceRef)
      .where("status", "in", statuses);
  const moving = from.filter((status) => status !== to);
  const kept = moving.length < from.length ? await update([to]).executeTakeFirst() : null;
  const changed = moving.length ? await update(moving).returningAll().execute() : [];
  const reason =
    changes.reason ??
    changes.revokedReason ??
    (to === "suspended" ? "payment disputed" : null) ??
    (to === "active" && moving.every((status) => status === "suspended") ? "dispute won" : null);
  for (const row of changed) {
    // Access taken away: access.revoked, in this transaction (decision 0017).
    if (to === "revoked")
      await recordWebhookEvent(ctx, "access.revoked", accessData(row), {
        productId: row.product_id,
      });
    await recordAccessChange(ctx, row, HISTORY_CHANGE[to], reason);
  }
  return changed.length > 0 || Number(kept?.numUpdatedRows ?? 0) > 0;
}

const HISTORY_CHANGE = {
  active: "restored",
  suspended: "suspended",
  revoked: "revoked",
} as const satisfies Record<EntitlementStatus, AccessChange>;
