import { PostgresAdapter, sql } from "kysely";
import type { EntitlementSource, Order, OrderMailKind } from "../../db/schema.ts";
import { refundRevokes } from "../catalog/grace.ts";
import { type Ctx, db, sharedWrite, system } from "../context.ts";
import { type CreatedToken, createDownloadTokens } from "../delivery/tokens.ts";
import { type DrainLoop, drainLoop } from "../drainLoop.ts";
import { isAppError } from "../errors.ts";
import { isPermanentMailFailure, type ReceiptSender } from "../ports.ts";
import { itemised, orderCharges, orderTaxIds } from "./charges.ts";
import { orderReference } from "./reference.ts";

/**
 * Receipts (decision 0011). The payment's transaction queues the receipt (a receipt_queue row,
 * with receipt_sent_at set on the order), so a webhook answered 2xx always has its receipt on
 * its way; a sender sends it after the answer: the runtime's background sender on Node, right
 * after the commit elsewhere. A sender holds each row under a lease while it sends, so two
 * processes never send one receipt twice, and a row whose sender died is sent once its lease is
 * over (by the next sender to look: housekeeping every 10 minutes at the latest).
 */

/** How long a sender may hold a receipt; after that it is taken to have died. */
const LEASE_MS = 10 * 60_000;
/** A failed try (the mail server or API was down) waits this long before the next. */
const RETRY_AFTER_MS = 10 * 60_000;
/** Undelivered receipts of orders paid longer ago than this are left to the seller. */
const RETRY_WINDOW_MS = 24 * 3600_000;
/** Receipts the background sender takes at a time: mailed at once, settled in one commit. */
const SENDER_BATCH = 16;

type Outcome =
  | { status: "sent"; to: string }
  | { status: "bounced" | "failed"; reason: string }
  | { status: "dropped"; reason: string };

/** What a receipt says, and to whom; read for several orders at once. */
type ReceiptFacts = Awaited<ReturnType<typeof receiptFacts>>[number];

/**
 * The receipt of one paid order: the library link and a delivery-token link, never a storage
 * URL. Mails it and records on the order what became of it: delivered; bounced (the recipient's
 * server refused it for good: only the seller sends it again); or failed for now, which releases
 * the claim (receipt_sent_at) so the seller can resend it. The caller claimed it.
 */
export async function sendReceipt(ctx: Ctx, orderId: string): Promise<void> {
  const [mailed = { status: "dropped", reason: "no such order" } as const] = await mailReceipts(
    ctx,
    await receiptFacts(ctx, [orderId]),
  );
  // Asked for by the seller: a receipt that cannot be sent (no access to link to any more) is a
  // failure they are told of, and the claim is released.
  const outcome: Outcome = mailed.status === "dropped" ? { ...mailed, status: "failed" } : mailed;
  await sharedWrite(ctx, (tx) => recordOutcomes(tx, [{ orderId, outcome }]));
  logOutcome(ctx, orderId, outcome);
}

/**
 * Each order's receipt facts, and what decides whether it is still one to send. Its licence key
 * comes in the same query: the key of the entitlement the order granted (entitlementRef: the
 * subscription's, or the purchase's), found through that entitlement's unique index.
 */
function receiptFacts(ctx: Ctx, orderIds: string[]) {
  return db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .leftJoin("users as u", "u.id", "o.user_id")
    .leftJoin("entitlements as e", (join) =>
      join
        .onRef("e.product_id", "=", "o.product_id")
        .on(
          "e.source",
          "=",
          sql<EntitlementSource>`case when ${sql.ref("o.subscription_id")} is null then 'purchase' else 'subscription' end`,
        )
        .on(
          "e.source_ref",
          "=",
          sql<string>`coalesce(${sql.ref("o.subscription_id")}, ${sql.ref("o.id")})`,
        ),
    )
    .leftJoin("licenses as l", (join) =>
      join.onRef("l.entitlement_id", "=", "e.id").on("l.revoked_at", "is", null),
    )
    .select([
      "o.id",
      "o.email",
      "o.user_id",
      "o.amount",
      "o.currency",
      "o.amount_discount",
      "o.amount_tax",
      "o.amount_total",
      "o.tax_ids",
      "o.buyer_country",
      "o.status",
      "o.updated_at",
      "o.receipt_delivered_at",
      "o.receipt_bounced_at",
      "o.product_id",
      "p.name as product_name",
      "p.grace_refund_revokes",
      "u.email as user_email",
      "l.key as license_key",
    ])
    .where("o.id", "in", orderIds)
    .execute();
}

/**
 * Mails the receipts of these orders, at once: their products' files read in one query, their
 * links made together (their access read in one query, stored in one shared commit). Outcomes in
 * the orders' order.
 */
async function mailReceipts(ctx: Ctx, orders: ReceiptFacts[]): Promise<Outcome[]> {
  const productIds = [...new Set(orders.map((o) => o.product_id))];
  const files = productIds.length
    ? await db(ctx)
        .selectFrom("assets")
        .select(["product_id", "filename", "size", "sha256"])
        .where("product_id", "in", productIds)
        .where("active", "=", 1)
        .orderBy("filename")
        .execute()
    : [];
  const addressed = orders.flatMap((order) => {
    const email = order.email ?? order.user_email;
    return email ? [{ order, email }] : [];
  });
  let links: (CreatedToken | Error)[];
  try {
    links = await createDownloadTokens({
      ctx: { ...ctx, actor: system },
      input: addressed.map(({ order, email }) => ({
        ...(order.user_id ? { userId: order.user_id } : { email }),
        productId: order.product_id,
      })),
    });
  } catch (error) {
    // The database: a failed try for each of them.
    const failure = error instanceof Error ? error : new Error(String(error));
    links = addressed.map(() => failure);
  }
  const linkOf = new Map(addressed.map(({ order }, i) => [order, links[i]]));
  return Promise.all(
    orders.map(async (order): Promise<Outcome> => {
      const email = order.email ?? order.user_email;
      if (!email) return { status: "dropped", reason: "no address to send it to" };
      const link = linkOf.get(order) as CreatedToken | Error;
      // The purchase gives no access any more (refunded, revoked since it was queued): there is
      // nothing to send. Anything else (the database) is a failed try.
      if (link instanceof Error)
        return { status: isAppError(link) ? "dropped" : "failed", reason: link.message };
      try {
        await ctx.mailer.send({
          kind: "receipt",
          to: email,
          productName: order.product_name,
          orderRef: orderReference(order.id),
          amount: order.amount,
          currency: order.currency,
          files: files
            .filter((f) => f.product_id === order.product_id)
            .map(({ filename, size, sha256 }) => ({ filename, size, sha256 })),
          link,
          licenseKey: order.license_key,
          ...chargeFacts(order),
        });
        return { status: "sent", to: email };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return { status: isPermanentMailFailure(error) ? "bounced" : "failed", reason };
      }
    }),
  );
}

/** What the receipt itemises when a discount or tax changed the total (decision 0029). */
function chargeFacts(order: ReceiptFacts) {
  const { net: _net, ...charges } = orderCharges(order);
  const taxIds = orderTaxIds(order);
  return {
    ...(itemised(charges) ? { charges } : {}),
    ...(order.buyer_country ? { country: order.buyer_country } : {}),
    ...(taxIds.length ? { taxIds } : {}),
  };
}

/** Records on the orders what became of their receipts: the delivered ones in one statement. */
async function recordOutcomes(
  ctx: Ctx,
  results: { orderId: string; outcome: Outcome }[],
): Promise<void> {
  const now = ctx.clock.now();
  const sent = results.filter((r) => r.outcome.status === "sent").map((r) => r.orderId);
  if (sent.length)
    await db(ctx)
      .updateTable("orders")
      .set({ receipt_delivered_at: now, receipt_bounced_at: null, receipt_bounce_reason: null })
      .where("id", "in", sent)
      .execute();
  for (const { orderId, outcome } of results) {
    if (outcome.status !== "bounced" && outcome.status !== "failed") continue;
    await db(ctx)
      .updateTable("orders")
      .set({
        receipt_sent_at: null,
        ...(outcome.status === "bounced"
          ? { receipt_bounced_at: now, receipt_bounce_reason: outcome.reason.slice(0, 500) }
          : {}),
      })
      .where("id", "=", orderId)
      .execute();
  }
}

function logOutcome(
  ctx: Ctx,
  orderId: string,
  outcome: Outcome,
  kind: OrderMailKind = "receipt",
): void {
  const mail = kind === "refund" ? "refund notice" : "receipt";
  if (outcome.status === "sent") ctx.log.info(`${mail} sent`, { orderId, email: outcome.to });
  else if (outcome.status === "bounced")
    ctx.log.warn(`${mail} bounced; not retried`, { orderId, error: outcome.reason });
  else if (outcome.status === "failed")
    ctx.log.error(`${mail} not sent`, { orderId, error: outcome.reason });
  else ctx.log.warn(`${mail} not sent`, { orderId, reason: outcome.reason });
}

/**
 * Queues the refund notice of an order that just became refunded, in the refund's transaction (the
 * transition happens once, so it is queued once). It takes the place of a receipt still queued:
 * a refunded order's receipt is not sent any more. Tell the sender after the commit.
 */
export async function queueRefundNotice(ctx: Ctx, orderId: string): Promise<void> {
  const now = ctx.clock.now();
  await db(ctx)
    .insertInto("receipt_queue")
    .values({
      order_id: orderId,
      kind: "refund",
      due_at: now,
      lease_until: null,
      attempts: 0,
      last_error: null,
      created_at: now,
    })
    .onConflict((oc) =>
      oc.column("order_id").doUpdateSet({
        kind: "refund",
        due_at: now,
        lease_until: null,
        attempts: 0,
        last_error: null,
      }),
    )
    .execute();
}

const whyNoRefundNotice = (order: Pick<Order, "status"> | undefined): string | null =>
  !order ? "no such order" : order.status === "refunded" ? null : `the order is ${order.status}`;

/** Tells the buyer their money is on its way back, and whether they keep the files. */
async function mailRefundNotice(ctx: Ctx, order: ReceiptFacts): Promise<Outcome> {
  const email = order.email ?? order.user_email;
  if (!email) return { status: "dropped", reason: "no address to send it to" };
  try {
    await ctx.mailer.send({
      kind: "refund",
      to: email,
      productName: order.product_name,
      orderRef: orderReference(order.id),
      amount: order.amount,
      currency: order.currency,
      accessKept: !refundRevokes(order, ctx.settings),
    });
    return { status: "sent", to: email };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { status: isPermanentMailFailure(error) ? "bounced" : "failed", reason };
  }
}

/**
 * Queues the receipt of an order that just became paid, inside the payment's transaction, which
 * claimed it on the order (receipt_sent_at) with the transition: so it is queued once. True when
 * this call queued it; tell the sender after the commit (receiptsQueued).
 */
export async function queueReceipt(ctx: Ctx, orderId: string): Promise<boolean> {
  const now = ctx.clock.now();
  // Written out in SQL: it is on the webhook's hot path (docs/performance.md).
  const queued = await sql`insert into receipt_queue
      (order_id, due_at, lease_until, attempts, last_error, created_at)
      values (${orderId}, ${now}, null, 0, null, ${now})
      on conflict (order_id) do nothing`.execute(db(ctx));
  return Number(queued.numAffectedRows ?? 0) === 1;
}

/**
 * After the commit that queued receipts: the runtime's background sender sends them after the
 * answer; without one (Workers), they are sent now. Never throws: a receipt that cannot be sent
 * now stays queued, and housekeeping sends it.
 */
export async function receiptsQueued(ctx: Ctx, orderIds: (string | null)[]): Promise<void> {
  const ids = orderIds.filter((id): id is string => id !== null);
  if (!ids.length) return;
  if (ctx.receiptSender) return ctx.receiptSender.wake();
  await sendQueuedReceipts({ ctx, input: { orderIds: ids } }).catch((error) =>
    ctx.log.error("receipts not sent; they stay queued", { error: String(error) }),
  );
}

/**
 * Sends queued receipts: those due (or, with `all`, also those waiting after a failed try), or
 * only the given orders'; never one a live sender holds. Claims a batch under a lease first
 * (Postgres: FOR UPDATE SKIP LOCKED, so concurrent senders take different rows; SQLite has one
 * writer), then mails each and settles its row in the commit that records the outcome. Says how
 * many rows it claimed and how many receipts it tried to mail (a row whose order is no longer
 * one to send a receipt for is dropped untried).
 */
export async function sendQueuedReceipts({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { orderIds?: string[]; all?: boolean; limit?: number };
}): Promise<{ claimed: number; tried: number }> {
  const now = ctx.clock.now();
  const leaseUntil = now + LEASE_MS;
  const postgres = ctx.db.getExecutor().adapter instanceof PostgresAdapter;
  const claimed = await sharedWrite(ctx, (tx) =>
    db(tx)
      .updateTable("receipt_queue")
      .set({ lease_until: leaseUntil, attempts: sql<number>`attempts + 1` })
      .where((eb) =>
        eb(
          "order_id",
          "in",
          (() => {
            let due = eb
              .selectFrom("receipt_queue")
              .select("order_id")
              .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]));
            if (input.orderIds) due = due.where("order_id", "in", input.orderIds);
            if (!input.all) due = due.where("due_at", "<=", now);
            due = due.orderBy("due_at").limit(input.limit ?? SENDER_BATCH);
            return postgres ? due.forUpdate().skipLocked() : due;
          })(),
        ),
      )
      .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]))
      .returning(["order_id", "attempts", "kind"])
      .execute(),
  );
  if (!claimed.length) return { claimed: 0, tried: 0 };
  const orderIds = claimed.map((row) => row.order_id);
  const facts = new Map((await receiptFacts(ctx, orderIds)).map((o) => [o.id, o]));
  const receipts: ReceiptFacts[] = [];
  const refunds: ReceiptFacts[] = [];
  const results: { orderId: string; kind: OrderMailKind; outcome: Outcome }[] = [];
  for (const { order_id: orderId, kind } of claimed) {
    const order = facts.get(orderId);
    const stale = kind === "refund" ? whyNoRefundNotice(order) : whyNotSend(ctx, order);
    if (stale || !order)
      results.push({ orderId, kind, outcome: { status: "dropped", reason: stale ?? "" } });
    else (kind === "refund" ? refunds : receipts).push(order);
  }
  const [mailedReceipts, mailedRefunds] = await Promise.all([
    mailReceipts(ctx, receipts),
    Promise.all(refunds.map((order) => mailRefundNotice(ctx, order))),
  ]);
  receipts.forEach((order, i) => {
    results.push({ orderId: order.id, kind: "receipt", outcome: mailedReceipts[i] as Outcome });
  });
  refunds.forEach((order, i) => {
    results.push({ orderId: order.id, kind: "refund", outcome: mailedRefunds[i] as Outcome });
  });

  // Settled in one commit, and only while this sender still holds the rows (its lease): one
  // that took too long and lost them leaves them to the sender that took them over.
  await sharedWrite(ctx, async (tx) => {
    await recordOutcomes(
      tx,
      results.filter((r) => r.kind === "receipt"),
    );
    const done = results.filter((r) => r.outcome.status !== "failed").map((r) => r.orderId);
    if (done.length)
      await db(tx)
        .deleteFrom("receipt_queue")
        .where("order_id", "in", done)
        .where("lease_until", "=", leaseUntil)
        .execute();
    for (const { orderId, outcome } of results) {
      if (outcome.status !== "failed") continue;
      await db(tx)
        .updateTable("receipt_queue")
        .set({
          lease_until: null,
          due_at: tx.clock.now() + RETRY_AFTER_MS,
          last_error: outcome.reason.slice(0, 500),
        })
        .where("order_id", "=", orderId)
        .where("lease_until", "=", leaseUntil)
        .execute();
    }
  });
  for (const { orderId, kind, outcome } of results) logOutcome(ctx, orderId, outcome, kind);
  return {
    claimed: claimed.length,
    tried: results.filter((r) => r.outcome.status !== "dropped").length,
  };
}

function whyNotSend(
  ctx: Ctx,
  order:
    | Pick<Order, "status" | "updated_at" | "receipt_delivered_at" | "receipt_bounced_at">
    | undefined,
): string | null {
  if (!order) return "no such order";
  if (order.status !== "paid") return `the order is ${order.status}`;
  if (order.receipt_bounced_at !== null) return "it bounced";
  if (order.receipt_delivered_at !== null) return "it was delivered (the seller sent it again)";
  if (order.updated_at < ctx.clock.now() - RETRY_WINDOW_MS)
    return "paid over a day ago: left to the seller";
  return null;
}

/** What became of an order's receipt, as the seller's pages and GET /api/admin/orders say it. */
export type ReceiptState = "sent" | "pending" | "bounced";

/**
 * sent: the mailer took it; bounced: the recipient's server refused it for good, at or after the
 * last delivery (a resend to a mailbox closed since); pending: not sent yet, or being retried.
 */
export function receiptState(
  order: Pick<Order, "receipt_delivered_at" | "receipt_bounced_at">,
): ReceiptState {
  const { receipt_delivered_at: delivered, receipt_bounced_at: bounced } = order;
  if (bounced !== null && (delivered === null || bounced >= delivered)) return "bounced";
  return delivered !== null ? "sent" : "pending";
}

/**
 * Housekeeping (every 10 minutes on Node, the Cron Trigger on Workers): sends every queued
 * receipt no live sender holds, including those waiting after a failed try and those whose
 * sender died (its lease is over); never one that bounced, and orders paid over a day ago are
 * left to the seller. Safe to run from several processes at once. Returns how many it tried.
 */
export async function resendUndeliveredReceipts({ ctx }: { ctx: Ctx }): Promise<number> {
  let total = 0;
  for (;;) {
    const { claimed, tried } = await sendQueuedReceipts({ ctx, input: { all: true } });
    total += tried;
    if (claimed < SENDER_BATCH) return total;
  }
}

/**
 * The Node runtime's background sender: woken at start and after each commit that queued
 * receipts, it drains the queue (due rows, a few at a time) until none is left, one drain at a
 * time in this process. Other processes run their own; leases keep them apart. Between batches
 * it may pause (`pace`), so that a burst of payments is answered before its receipts go out.
 */
export function backgroundReceiptSender(
  log: Ctx["log"],
  opts: {
    /** Waits between two batches, told how long the last one took: the runtime's way to keep
     * the requests it serves ahead of the receipts they queued (runtime/pace.ts). */
    pace?: (batchMs: number) => Promise<void>;
  } = {},
): ReceiptSender & DrainLoop {
  return drainLoop({
    log,
    failure: "receipt sender failed; the receipts stay queued",
    drain: async (c, stopped) => {
      // A batch at a time: a process killed mid-send strands only those under way until their
      // lease is over.
      for (;;) {
        const started = performance.now();
        const { claimed } = await sendQueuedReceipts({ ctx: c, input: { limit: SENDER_BATCH } });
        if (!claimed || stopped()) break;
        await opts.pace?.(performance.now() - started);
      }
    },
  });
}
