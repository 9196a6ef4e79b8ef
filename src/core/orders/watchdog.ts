import { type ExpressionBuilder, sql } from "kysely";
import type { Database, EntitlementSource } from "../../db/schema.ts";
import { alertSeller } from "../alerts.ts";
import { type Ctx, db, requireAdmin, sharedWrite, system } from "../context.ts";
import { type CreatedToken, createDownloadTokens } from "../delivery/tokens.ts";
import { inWords } from "../duration.ts";
import { isAppError } from "../errors.ts";
import { isPermanentMailFailure } from "../ports.ts";
import { sendQueuedReceipts } from "./receipts.ts";
import { orderReference } from "./reference.ts";

/**
 * The delivery watchdog (decision 0023). One pass, run every minute by one of the shop's
 * processes (a job lease; the Cron Trigger on Workers), that notices paid orders whose delivery
 * is stuck: a receipt the mail transport has not taken 10 minutes after payment is tried again
 * and, still not taken, told to the seller once; a buyer who downloaded nothing
 * DOWNLOAD_REMINDER_AFTER after payment gets one reminder with a fresh link. Each order is
 * claimed on its own row, so two passes at once (two processes, a pass and a Cron run) never
 * mail twice, and a pass that dies leaves its claims to the next once their lease is over.
 */

/** A receipt the mail transport has not taken this long after payment is stuck. */
export const RECEIPT_GRACE_MS = 10 * 60_000;
/** Receipts are retried for a day (receipts.ts); the seller is told of those stuck within it. */
const ALERT_WINDOW_MS = 24 * 3600_000;
/** The reminder is due from DOWNLOAD_REMINDER_AFTER on, and given up a week after that. */
const REMINDER_WINDOW_MS = 7 * 24 * 3600_000;
/** How long a pass holds a reminder while it mails it; then another may take it. */
const REMINDER_LEASE_MS = 10 * 60_000;
/** Orders looked at a pass, for each of the two checks. */
const BATCH = 50;
/** The dashboard's "paid but not yet delivered" looks this far back. */
export const UNDELIVERED_SHOWN_MS = 30 * 24 * 3600_000;
/** Without reminders (DOWNLOAD_REMINDER_AFTER=off) the dashboard still lists after this long. */
const DEFAULT_REMINDER_AFTER_MS = 48 * 3600_000;

/** The order's own entitlement, as entitlementRef finds it: the purchase's, or the subscription's. */
const entitlementSource = sql<EntitlementSource>`case when ${sql.ref("o.subscription_id")} is null then 'purchase' else 'subscription' end`;
const entitlementRef = sql<string>`coalesce(${sql.ref("o.subscription_id")}, ${sql.ref("o.id")})`;

/**
 * The downloads that count for order `o`: its buyer's (its entitlement's, or any other of theirs
 * to the same product, by user or email) since it was paid.
 */
const buyerDownloads = sql`from downloads d
  inner join entitlements e2 on e2.id = d.entitlement_id
  where e2.product_id = ${sql.ref("o.product_id")}
    and (e2.source_ref = ${entitlementRef}
      or e2.user_id = ${sql.ref("o.user_id")}
      or e2.email = ${sql.ref("o.email")})
    and d.created_at >= ${sql.ref("o.paid_at")}`;

/** Whether order `o`'s buyer downloaded anything of it (see buyerDownloads). */
export const downloaded = sql<boolean>`exists (select 1 ${buyerDownloads})`;
/** When order `o`'s buyer first downloaded anything of it; null: not yet. */
export const firstDownloadAt = sql<number | null>`(select min(d.created_at) ${buyerDownloads})`;

export interface WatchOutcome {
  /** Receipts stuck 10 minutes after payment that this pass tried again. */
  retried: number;
  /** Orders whose stuck receipt this pass told the seller of. */
  alerted: number;
  /** Download reminders the mail transport took. */
  reminded: number;
}

/** One pass of the watchdog (see the top of this file). Safe to run anywhere, any time. */
export async function watchDeliveries({ ctx }: { ctx: Ctx }): Promise<WatchOutcome> {
  const { retried, alerted } = await watchReceipts(ctx);
  const reminded = await remindUndownloaded(ctx);
  return { retried, alerted, reminded };
}

async function watchReceipts(ctx: Ctx): Promise<{ retried: number; alerted: number }> {
  const now = ctx.clock.now();
  const stuck = await db(ctx)
    .selectFrom("orders")
    .select("id")
    .where("status", "=", "paid")
    .where("paid_at", ">=", now - ALERT_WINDOW_MS)
    .where("paid_at", "<=", now - RECEIPT_GRACE_MS)
    .where("receipt_delivered_at", "is", null)
    .where("receipt_bounced_at", "is", null)
    .where("receipt_alerted_at", "is", null)
    .orderBy("paid_at")
    .limit(BATCH)
    .execute();
  if (!stuck.length) return { retried: 0, alerted: 0 };
  const ids = stuck.map((o) => o.id);
  // Tried once more now, whenever its next try was due; those the transport takes are delivered.
  let retried = 0;
  try {
    ({ tried: retried } = await sendQueuedReceipts({
      ctx,
      input: { orderIds: ids, all: true, limit: ids.length },
    }));
  } catch (error) {
    ctx.log.error("watchdog: receipts not retried", { error: String(error) });
  }
  // Claimed on the order, once: whichever pass sets receipt_alerted_at tells the seller.
  const claimed = await sharedWrite(ctx, (tx) =>
    db(tx)
      .updateTable("orders")
      .set({ receipt_alerted_at: tx.clock.now() })
      .where("id", "in", ids)
      .where("status", "=", "paid")
      .where("receipt_alerted_at", "is", null)
      .where("receipt_delivered_at", "is", null)
      .where("receipt_bounced_at", "is", null)
      .returning("id")
      .execute(),
  );
  if (!claimed.length) return { retried, alerted: 0 };
  const orders = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .leftJoin("users as u", "u.id", "o.user_id")
    .leftJoin("receipt_queue as q", "q.order_id", "o.id")
    .select([
      "o.id",
      "o.email",
      "u.email as user_email",
      "p.name as product_name",
      "q.order_id as queued",
      "q.last_error",
    ])
    .where(
      "o.id",
      "in",
      claimed.map((c) => c.id),
    )
    .orderBy("o.paid_at")
    .execute();
  for (const o of orders)
    ctx.log.warn("receipt not sent 10 minutes after payment; seller alerted", {
      orderId: o.id,
      error: o.last_error,
    });
  const one = orders.length === 1 ? orders[0] : undefined;
  await alertSeller(ctx, {
    title: one
      ? `A receipt has not gone out: ${orderReference(one.id)}`
      : `${orders.length} receipts have not gone out`,
    lead: `${one ? "This receipt was" : "These receipts were"} not accepted by the mail server within 10 minutes of payment. Tollgate keeps trying every 10 minutes for a day; meanwhile the ${one ? "buyer downloads" : "buyers download"} from the success page and the library. If the mail settings are wrong, fix them, then resend from the order.`,
    rows: orders.map((o) => [
      `${orderReference(o.id)} · ${o.email ?? o.user_email ?? "no address"} · ${o.product_name}`,
      o.queued ? (o.last_error ?? "waiting for its next try") : "no longer queued: resend it",
    ]),
    pageUrl: one ? `/admin/orders/${one.id}` : "/admin",
  });
  return { retried, alerted: orders.length };
}

async function remindUndownloaded(ctx: Ctx): Promise<number> {
  const after = ctx.settings.downloadReminderAfterMs;
  if (after === null) return 0;
  const now = ctx.clock.now();
  const free = (eb: ExpressionBuilder<Database, "orders">) =>
    eb.or([eb("download_reminder_lease", "is", null), eb("download_reminder_lease", "<", now)]);
  const due = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("entitlements as e", (join) =>
      join
        .onRef("e.product_id", "=", "o.product_id")
        .on("e.source", "=", entitlementSource)
        .on("e.source_ref", "=", entitlementRef),
    )
    .select("o.id")
    .where("o.status", "=", "paid")
    .where("e.status", "=", "active")
    .where((eb) => eb.or([eb("e.ends_at", "is", null), eb("e.ends_at", ">", now)]))
    .where("o.paid_at", "<=", now - after)
    .where("o.paid_at", ">=", now - after - REMINDER_WINDOW_MS)
    .where("o.download_reminded_at", "is", null)
    .where((eb) =>
      eb.or([
        eb("o.download_reminder_lease", "is", null),
        eb("o.download_reminder_lease", "<", now),
      ]),
    )
    .where(sql<boolean>`not ${downloaded}`)
    .orderBy("o.paid_at")
    .limit(BATCH)
    .execute();
  if (!due.length) return 0;
  const leaseUntil = now + REMINDER_LEASE_MS;
  // Each order claimed on its row: a pass that took it mails it, or, dead, leaves it to the next
  // once the lease is over.
  const claimed = await sharedWrite(ctx, (tx) =>
    db(tx)
      .updateTable("orders")
      .set({ download_reminder_lease: leaseUntil })
      .where(
        "id",
        "in",
        due.map((o) => o.id),
      )
      .where("download_reminded_at", "is", null)
      .where(free)
      .returning("id")
      .execute(),
  );
  if (!claimed.length) return 0;
  // Read again under the claim: a download since the look above cancels its reminder.
  const orders = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .leftJoin("users as u", "u.id", "o.user_id")
    .select([
      "o.id",
      "o.email",
      "o.user_id",
      "o.product_id",
      "o.paid_at",
      "u.email as user_email",
      "p.name as product_name",
      downloaded.as("downloaded"),
    ])
    .where(
      "o.id",
      "in",
      claimed.map((c) => c.id),
    )
    .execute();
  const toMail = orders.flatMap((o) => {
    const email = o.email ?? o.user_email;
    return email && !truthy(o.downloaded) ? [{ order: o, email }] : [];
  });
  let links: (CreatedToken | Error)[];
  try {
    links = await createDownloadTokens({
      ctx: { ...ctx, actor: system },
      input: toMail.map(({ order, email }) => ({
        ...(order.user_id ? { userId: order.user_id } : { email }),
        productId: order.product_id,
      })),
    });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    links = toMail.map(() => failure);
  }
  type Result = "sent" | "given up" | "failed";
  const results = new Map<string, Result>(orders.map((o) => [o.id, "given up"]));
  await Promise.all(
    toMail.map(async ({ order, email }, i) => {
      const link = links[i] as CreatedToken | Error;
      if (link instanceof Error) {
        // No access any more: nothing to remind of. Anything else: tried again next pass.
        results.set(order.id, isAppError(link) ? "given up" : "failed");
        if (!isAppError(link))
          ctx.log.error("download reminder not sent", { orderId: order.id, error: link.message });
        return;
      }
      try {
        await ctx.mailer.send({
          kind: "download-reminder",
          to: email,
          productName: order.product_name,
          orderRef: orderReference(order.id),
          paidAt: Number(order.paid_at),
          link,
        });
        results.set(order.id, "sent");
        ctx.log.info("download reminder sent", { orderId: order.id, email });
      } catch (error) {
        const permanent = isPermanentMailFailure(error);
        results.set(order.id, permanent ? "given up" : "failed");
        ctx.log[permanent ? "warn" : "error"]("download reminder not sent", {
          orderId: order.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
  const finished = [...results].filter(([, r]) => r !== "failed").map(([id]) => id);
  const failed = [...results].filter(([, r]) => r === "failed").map(([id]) => id);
  await sharedWrite(ctx, async (tx) => {
    if (finished.length)
      await db(tx)
        .updateTable("orders")
        .set({ download_reminded_at: tx.clock.now(), download_reminder_lease: null })
        .where("id", "in", finished)
        .where("download_reminder_lease", "=", leaseUntil)
        .execute();
    if (failed.length)
      await db(tx)
        .updateTable("orders")
        .set({ download_reminder_lease: null })
        .where("id", "in", failed)
        .where("download_reminder_lease", "=", leaseUntil)
        .execute();
  });
  return [...results.values()].filter((r) => r === "sent").length;
}

/** SQLite answers 0 or 1 where Postgres answers a boolean. */
const truthy = (value: unknown) => value === true || Number(value) === 1;

export type UndeliveredReason = "receipt-pending" | "receipt-bounced" | "not-downloaded";

/** A paid order whose delivery is stuck, as the dashboard lists it. */
export interface UndeliveredOrder {
  id: string;
  reference: string;
  email: string | null;
  productName: string;
  paidAt: number;
  reason: UndeliveredReason;
  /** The reason in words, for the seller. */
  why: string;
}

/**
 * "Paid but not yet delivered" (the dashboard): paid orders of the last 30 days whose receipt is
 * still not taken 10 minutes after payment, bounced, or that nothing was downloaded of after the
 * reminder time; each once, for its first reason in that order; the latest paid first.
 */
export async function listUndelivered({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { limit?: number };
}): Promise<UndeliveredOrder[]> {
  requireAdmin(ctx);
  const limit = Math.min(Math.max(1, input.limit ?? 20), 100);
  const now = ctx.clock.now();
  const reminderAfter = ctx.settings.downloadReminderAfterMs;
  const after = reminderAfter ?? DEFAULT_REMINDER_AFTER_MS;
  const base = () =>
    db(ctx)
      .selectFrom("orders as o")
      .innerJoin("products as p", "p.id", "o.product_id")
      .leftJoin("users as u", "u.id", "o.user_id")
      .leftJoin("receipt_queue as q", "q.order_id", "o.id")
      .select([
        "o.id",
        "o.email",
        "u.email as user_email",
        "p.name as product_name",
        "o.paid_at",
        "o.receipt_delivered_at",
        "o.receipt_bounced_at",
        "o.receipt_bounce_reason",
        "o.receipt_alerted_at",
        "o.download_reminded_at",
        "q.order_id as queued",
        "q.last_error",
      ])
      .where("o.status", "=", "paid")
      .where("o.paid_at", ">=", now - UNDELIVERED_SHOWN_MS)
      .orderBy("o.paid_at", "desc")
      .limit(limit);
  const [receipts, undownloaded] = await Promise.all([
    base()
      .where((eb) =>
        eb.or([
          eb.and([
            eb("o.receipt_delivered_at", "is", null),
            eb("o.receipt_bounced_at", "is", null),
            eb("o.paid_at", "<=", now - RECEIPT_GRACE_MS),
          ]),
          eb.and([
            eb("o.receipt_bounced_at", "is not", null),
            eb.or([
              eb("o.receipt_delivered_at", "is", null),
              eb("o.receipt_bounced_at", ">=", eb.ref("o.receipt_delivered_at")),
            ]),
          ]),
        ]),
      )
      .execute(),
    base()
      .where("o.paid_at", "<=", now - after)
      .where(sql<boolean>`not ${downloaded}`)
      .execute(),
  ]);
  const seen = new Set<string>();
  const rows: UndeliveredOrder[] = [];
  for (const [reason, list] of [
    ["receipt", receipts],
    ["download", undownloaded],
  ] as const) {
    for (const o of list) {
      if (seen.has(o.id)) continue;
      seen.add(o.id);
      const paidAt = Number(o.paid_at);
      const row = {
        id: o.id,
        reference: orderReference(o.id),
        email: o.email ?? o.user_email,
        productName: o.product_name,
        paidAt,
      };
      if (reason === "receipt" && o.receipt_bounced_at !== null)
        rows.push({
          ...row,
          reason: "receipt-bounced",
          why: `The receipt bounced: ${o.receipt_bounce_reason ?? "the mail server refused it"}.`,
        });
      else if (reason === "receipt")
        rows.push({
          ...row,
          reason: "receipt-pending",
          why: `The receipt has not gone out ${inWords(now - paidAt)} after payment: ${
            o.queued
              ? (o.last_error ?? "waiting for its next try")
              : "it is no longer queued, resend it"
          }.${o.receipt_alerted_at !== null ? " You were emailed about it." : ""}`,
        });
      else
        rows.push({
          ...row,
          reason: "not-downloaded",
          why: `Nothing downloaded ${inWords(now - paidAt)} after payment; ${
            o.download_reminded_at !== null
              ? `a reminder went ${inWords(now - Number(o.download_reminded_at))} ago.`
              : reminderAfter === null
                ? "reminders are off (DOWNLOAD_REMINDER_AFTER)."
                : "the reminder goes with the next pass."
          }`,
        });
    }
  }
  return rows.sort((a, b) => b.paidAt - a.paidAt).slice(0, limit);
}
