import type { Order } from "../../db/schema.ts";
import { recordAccessChange } from "../access/history.ts";
import { type Ctx, db, sharedWrite } from "../context.ts";
import { isPermanentMailFailure, type PaymentEvent } from "../ports.ts";
import { entitlementRef } from "./orderState.ts";
import { orderReference } from "./reference.ts";

/**
 * The past-due grace (decision 0020): a subscription's payment failed and its product keeps
 * access a while. One payment_failures row per failed invoice, written in the event's
 * transaction, makes the grace start once (Stripe sends invoice.payment_failed for every failed
 * try, and may deliver each twice) and queues the one mail asking the buyer to fix their card;
 * it is sent after the commit under a lease, so two processes never send it twice.
 */

const DAY_MS = 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();
/** How long a sender may hold a mail; after that it is taken to have died. */
const LEASE_MS = 10 * 60_000;
/** A failed try (the mail server or API was down) waits this long before the next. */
const RETRY_AFTER_MS = 10 * 60_000;

type PaymentFailed = Extract<PaymentEvent, { kind: "invoice_payment_failed" }>;

/**
 * Starts the grace of a failed invoice: access lasts at least until the failure's time plus the
 * product's days (never shortened), the history says so, and the buyer's mail is queued. A
 * product without grace (0 days, the default) changes nothing, as before. `started` is false,
 * with why, when nothing changed.
 */
export async function startPastDueGrace(
  ctx: Ctx,
  order: Order,
  event: PaymentFailed,
): Promise<{ started: true; note: string } | { started: false; note: string }> {
  const product = await db(ctx)
    .selectFrom("products")
    .select("grace_past_due_days")
    .where("id", "=", order.product_id)
    .executeTakeFirst();
  const days = product?.grace_past_due_days ?? 0;
  if (days <= 0)
    return { started: false, note: "payment failed; the product has no past-due grace" };
  const ref = entitlementRef(order);
  const entitlement = ref
    ? await db(ctx)
        .selectFrom("entitlements")
        .selectAll()
        .where("product_id", "=", order.product_id)
        .where("source", "=", ref.source)
        .where("source_ref", "=", ref.sourceRef)
        .executeTakeFirst()
    : undefined;
  const active = entitlement?.status === "active";
  const now = ctx.clock.now();
  const graceUntil = event.failedAt + days * DAY_MS;
  const inserted = await db(ctx)
    .insertInto("payment_failures")
    .values({
      invoice_id: event.invoiceId,
      order_id: order.id,
      failed_at: event.failedAt,
      grace_until: graceUntil,
      invoice_url: event.invoiceUrl,
      paid_at: null,
      // Nobody to keep access for (revoked, suspended): no mail either.
      mail_due_at: active ? now : null,
      mail_lease_until: null,
      mail_error: null,
      mailed_at: null,
      created_at: now,
    })
    .onConflict((oc) => oc.column("invoice_id").doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) {
    const known = await db(ctx)
      .selectFrom("payment_failures")
      .select("paid_at")
      .where("invoice_id", "=", event.invoiceId)
      .executeTakeFirst();
    return {
      started: false,
      note:
        known?.paid_at != null
          ? "payment failed, but the invoice was paid already: nothing changes"
          : "payment failed again; its grace started with the first try",
    };
  }
  if (!entitlement || !active)
    return {
      started: false,
      note: `payment failed; access is ${entitlement?.status ?? "not granted"}: no grace`,
    };
  // Never shortens access already paid for: only a later end is written.
  if (entitlement.ends_at !== null && entitlement.ends_at < graceUntil)
    await db(ctx)
      .updateTable("entitlements")
      .set({ ends_at: graceUntil, updated_at: now })
      .where("id", "=", entitlement.id)
      .where("ends_at", "<", graceUntil)
      .execute();
  const until = entitlement.ends_at === null ? null : Math.max(entitlement.ends_at, graceUntil);
  await recordAccessChange(
    ctx,
    entitlement,
    "grace_started",
    `payment of invoice ${event.invoiceId} failed: access kept ${
      until === null ? "(it has no end)" : `until ${iso(until)}`
    } for the buyer to fix their card (${days}-day past-due grace)`,
  );
  return {
    started: true,
    note: `payment failed: ${days}-day grace, access until ${iso(until ?? graceUntil)}`,
  };
}

/**
 * The invoice was paid after all: its grace is over (the paid period takes over) and its mail,
 * if it has not gone yet, does not go. True when the invoice had a grace running. An invoice
 * paid before any failure of it reached us is written down as paid (no failure time, no grace),
 * so a failed try's event that Stripe delivers late starts no grace and mails nobody.
 */
export async function endPastDueGrace(ctx: Ctx, order: Order, invoiceId: string): Promise<boolean> {
  const now = ctx.clock.now();
  const ended = await db(ctx)
    .updateTable("payment_failures")
    .set({ paid_at: now, mail_due_at: null })
    .where("invoice_id", "=", invoiceId)
    .where("paid_at", "is", null)
    .executeTakeFirst();
  if (Number(ended.numUpdatedRows) > 0) return true;
  await db(ctx)
    .insertInto("payment_failures")
    .values({
      invoice_id: invoiceId,
      order_id: order.id,
      failed_at: 0,
      grace_until: 0,
      invoice_url: null,
      paid_at: now,
      mail_due_at: null,
      mail_lease_until: null,
      mail_error: null,
      mailed_at: null,
      created_at: now,
    })
    .onConflict((oc) => oc.column("invoice_id").doNothing())
    .execute();
  return false;
}

/**
 * Sends the queued payment-failed mails: those due, or only these invoices', never one a live
 * sender holds nor one whose grace is over or whose invoice was paid. Each is claimed under a
 * lease first (one conditional UPDATE: a concurrent sender finds it taken), mailed, and settled.
 * Returns how many it tried.
 */
export async function sendPaymentFailedMails({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { invoiceIds?: string[] };
}): Promise<number> {
  const now = ctx.clock.now();
  const leaseUntil = now + LEASE_MS;
  const claimed = await sharedWrite(ctx, (tx) => {
    let claim = db(tx)
      .updateTable("payment_failures")
      .set((eb) => ({ mail_lease_until: leaseUntil, mail_attempts: eb("mail_attempts", "+", 1) }))
      .where("mailed_at", "is", null)
      .where("paid_at", "is", null)
      .where("mail_due_at", "<=", now)
      .where("grace_until", ">", now)
      .where((w) => w.or([w("mail_lease_until", "is", null), w("mail_lease_until", "<", now)]));
    if (input.invoiceIds) claim = claim.where("invoice_id", "in", input.invoiceIds);
    return claim.returning(["invoice_id", "order_id", "grace_until", "invoice_url"]).execute();
  });
  if (!claimed.length) return 0;
  const facts = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .leftJoin("users as u", "u.id", "o.user_id")
    .select(["o.id", "o.email", "u.email as user_email", "p.name as product_name"])
    .where(
      "o.id",
      "in",
      claimed.map((row) => row.order_id),
    )
    .execute();
  const byOrder = new Map(facts.map((f) => [f.id, f]));
  let tried = 0;
  for (const row of claimed) {
    const order = byOrder.get(row.order_id);
    const to = order?.email ?? order?.user_email ?? null;
    let settle: { mailed_at?: number; mail_due_at?: number | null; mail_error?: string | null };
    if (!order || !to) {
      settle = { mail_due_at: null, mail_error: "no address to send it to" };
    } else {
      tried++;
      try {
        await ctx.mailer.send({
          kind: "payment-failed",
          to,
          productName: order.product_name,
          orderRef: orderReference(order.id),
          accessUntil: row.grace_until,
          payUrl: row.invoice_url,
        });
        settle = { mailed_at: ctx.clock.now(), mail_due_at: null, mail_error: null };
        ctx.log.info("payment-failed mail sent", { invoiceId: row.invoice_id, email: to });
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
        // Refused for good (a bounce): not tried again. Anything else: tried again later.
        settle = isPermanentMailFailure(error)
          ? { mail_due_at: null, mail_error: reason }
          : { mail_due_at: ctx.clock.now() + RETRY_AFTER_MS, mail_error: reason };
        ctx.log.warn("payment-failed mail not sent", { invoiceId: row.invoice_id, error: reason });
      }
    }
    // Only while this sender still holds it: one that took too long leaves it to the next.
    await sharedWrite(ctx, (tx) =>
      db(tx)
        .updateTable("payment_failures")
        .set({ ...settle, mail_lease_until: null })
        .where("invoice_id", "=", row.invoice_id)
        .where("mail_lease_until", "=", leaseUntil)
        .execute(),
    );
  }
  return tried;
}

/**
 * After the commit that queued a payment-failed mail: sent now (a failed payment is rare, and
 * the buyer should hear soon). Never throws: a mail that cannot be sent now stays queued, and
 * housekeeping sends it.
 */
export async function paymentFailedMailQueued(ctx: Ctx, invoiceId: string | null | undefined) {
  if (!invoiceId) return;
  await sendPaymentFailedMails({ ctx, input: { invoiceIds: [invoiceId] } }).catch((error) =>
    ctx.log.error("payment-failed mail not sent; it stays queued", { error: String(error) }),
  );
}
