import type { EmailCorrection } from "../../db/schema.ts";
import { accessData } from "../access/entitlements.ts";
import { recordAccessChange } from "../access/history.ts";
import { type Ctx, db, normalizeEmail, withTransaction } from "../context.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";
import { entitlementRef } from "./orderState.ts";
import { receiptsQueued } from "./receipts.ts";

/**
 * The second half of a bounced receipt's correction (decision 0024; the first is
 * correctEmail.ts): once someone signs in with the corrected address, which proves it is theirs,
 * each purchase waiting for that address moves to it. In one transaction per purchase: the
 * correction is used (once: a correction no longer pending is left alone), the order's address
 * and user and its entitlement's owner become the new ones, the access history says so, an
 * `access.granted` webhook event carries the new owner, and the receipt is queued again, to the
 * new address; it is sent after the commit. Never throws: a correction that could not be
 * applied stays pending, and the next sign-in (or library visit) tries again. Answers the
 * products' orders that moved.
 */
export async function applyEmailCorrections(
  ctx: Ctx,
  user: { id: string; email: string },
): Promise<string[]> {
  const email = normalizeEmail(user.email);
  try {
    const pending = await db(ctx)
      .selectFrom("email_corrections")
      .selectAll()
      .where("new_email", "=", email)
      .where("status", "=", "pending")
      .execute();
    const moved: string[] = [];
    for (const correction of pending) {
      if (await applyOne(ctx, correction, { id: user.id, email })) moved.push(correction.order_id);
    }
    if (moved.length) await receiptsQueued(ctx, moved);
    return moved;
  } catch (error) {
    ctx.log.error("email correction not applied; it stays pending", {
      userId: user.id,
      error: String(error),
    });
    return [];
  }
}

async function applyOne(
  ctx: Ctx,
  correction: EmailCorrection,
  user: { id: string; email: string },
): Promise<boolean> {
  // The buyer acts: the access history names them.
  const asBuyer: Ctx = { ...ctx, actor: { user, admin: false } };
  return withTransaction(asBuyer, async (tx) => {
    const now = tx.clock.now();
    const used = await db(tx)
      .updateTable("email_corrections")
      .set({ status: "used", used_at: now, user_id: user.id })
      .where("id", "=", correction.id)
      .where("status", "=", "pending")
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return false;
    const order = await db(tx)
      .selectFrom("orders")
      .selectAll()
      .where("id", "=", correction.order_id)
      .executeTakeFirst();
    // Refunded or disputed since: nothing to move (the correction is spent all the same).
    if (order?.status !== "paid") return false;

    // The receipt goes out again through the queue (a crash after the commit leaves it queued,
    // never sent twice): claimed, and no longer bounced or delivered, or the sender would skip it.
    await db(tx)
      .updateTable("orders")
      .set({
        email: user.email,
        user_id: user.id,
        receipt_sent_at: now,
        receipt_delivered_at: null,
        receipt_bounced_at: null,
        receipt_bounce_reason: null,
        updated_at: now,
      })
      .where("id", "=", order.id)
      .execute();
    const ref = entitlementRef(order);
    const entitlement = ref
      ? await db(tx)
          .updateTable("entitlements")
          .set({ user_id: user.id, email: user.email, updated_at: now })
          .where("product_id", "=", order.product_id)
          .where("source", "=", ref.source)
          .where("source_ref", "=", ref.sourceRef)
          .returningAll()
          .executeTakeFirst()
      : undefined;
    if (entitlement) {
      await recordAccessChange(
        tx,
        entitlement,
        "granted",
        `email corrected from ${maskEmail(correction.old_email)} after a bounce`,
      );
      // The seller's systems knew the old address: they hear who holds the access now.
      await recordWebhookEvent(tx, "access.granted", accessData(entitlement), {
        productId: entitlement.product_id,
      });
    }
    await db(tx)
      .insertInto("receipt_queue")
      .values({
        order_id: order.id,
        kind: "receipt",
        due_at: now,
        lease_until: null,
        attempts: 0,
        last_error: null,
        created_at: now,
      })
      .onConflict((oc) =>
        oc.column("order_id").doUpdateSet({
          kind: "receipt",
          due_at: now,
          lease_until: null,
          attempts: 0,
          last_error: null,
        }),
      )
      .execute();
    ctx.log.info("purchase moved to a corrected email", {
      orderId: order.id,
      correctionId: correction.id,
      userId: user.id,
    });
    return true;
  });
}

/** `ann@example.com` -> `a…@…`: enough for the seller to recognise, nothing more for anyone else. */
export function maskEmail(email: string | null): string {
  if (!email) return "an address";
  return `${email.slice(0, 1)}…@…`;
}

/** What the seller's order page says of an order's corrections, the latest first. */
export interface OrderCorrection {
  status: EmailCorrection["status"];
  oldEmail: string | null;
  newEmail: string;
  createdAt: number;
  usedAt: number | null;
}

export async function correctionsOfOrder(ctx: Ctx, orderId: string): Promise<OrderCorrection[]> {
  const rows = await db(ctx)
    .selectFrom("email_corrections")
    .selectAll()
    .where("order_id", "=", orderId)
    .orderBy("created_at", "desc")
    .execute();
  return rows.map((r) => ({
    status: r.status,
    oldEmail: r.old_email,
    newEmail: r.new_email,
    createdAt: Number(r.created_at),
    usedAt: r.used_at === null ? null : Number(r.used_at),
  }));
}

/** The purchases moved to this address by a correction used in the last hour (the library's note). */
export async function recentlyCorrected(
  ctx: Ctx,
  userId: string,
): Promise<{ orderId: string; productName: string }[]> {
  return db(ctx)
    .selectFrom("email_corrections as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .innerJoin("products as p", "p.id", "o.product_id")
    .select(["o.id as orderId", "p.name as productName"])
    .where("c.user_id", "=", userId)
    .where("c.status", "=", "used")
    .where("c.used_at", ">", ctx.clock.now() - 3600_000)
    .execute();
}
