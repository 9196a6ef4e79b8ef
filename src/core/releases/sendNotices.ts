/**
 * The update mails' sender (decision 0018): the release_notices rows queued in the publishing
 * transaction are claimed a batch at a time under a lease (Postgres: FOR UPDATE SKIP LOCKED, so
 * concurrent senders take different rows; SQLite has one writer), mailed, and settled in one
 * commit, each to sent, failed (for good) or skipped, or back to queued for a later try. A sender
 * that dies leaves its rows leased: the next sender takes them once the lease is over, so nobody
 * is skipped; a row is only settled while its sender still holds the lease, so nobody is mailed
 * twice by two senders (a crash between a mail's sending and its commit is the one window left,
 * as for receipts, decision 0011).
 */
import { type ExpressionBuilder, PostgresAdapter, sql } from "kysely";
import type { Database } from "../../db/schema.ts";
import { type Ctx, db, system, withSharedCommit, withTransaction } from "../context.ts";
import { type CreatedToken, createDownloadTokens } from "../delivery/tokens.ts";
import { type DrainLoop, drainLoop } from "../drainLoop.ts";
import { isAppError } from "../errors.ts";
import { isPermanentMailFailure, type ReceiptSender } from "../ports.ts";
import type { ReleaseChanges } from "./manifest.ts";
import { unsubscribeUrl } from "./unsubscribe.ts";

/** How long a sender may hold a batch; after that it is taken to have died. */
export const NOTICE_LEASE_MS = 5 * 60_000;
/** A failed try (the mail server was down) waits this long before the next. */
const RETRY_AFTER_MS = 5 * 60_000;
/** After this many tries a notice is failed for good. */
const MAX_ATTEMPTS = 5;
/** Notices claimed at a time, at most: fewer when the rate is lower. */
const MAX_BATCH = 50;

type Outcome =
  | { status: "sent" }
  | { status: "skipped" | "failed"; reason: string }
  | { status: "retry"; reason: string };

/** Notices a batch takes: the rate's share, so a batch a minute never passes the rate. */
export const noticeBatchSize = (ctx: Ctx): number =>
  Math.max(1, Math.min(MAX_BATCH, ctx.settings.releaseMailRate));

/** How long a batch of `n` takes at the configured rate: the sender waits that long in all. */
export const noticeBatchInterval = (ctx: Ctx, n: number): number =>
  Math.ceil((n * 60_000) / ctx.settings.releaseMailRate);

/**
 * Claims one batch of due notices no live sender holds, mails them, and settles them in one
 * commit. Says how many it claimed (0: nothing is due).
 */
export async function sendQueuedNotices({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { limit?: number };
}): Promise<{ claimed: number; sent: number }> {
  const now = ctx.clock.now();
  const leaseUntil = now + NOTICE_LEASE_MS;
  const limit = input.limit ?? noticeBatchSize(ctx);
  const claimed = await claimNotices(ctx, now, leaseUntil, limit);
  if (!claimed.length) return { claimed: 0, sent: 0 };
  const outcomes = await mailNotices(ctx, claimed);
  await withSharedCommit(ctx, async (tx) => {
    const at = tx.clock.now();
    for (const [i, notice] of claimed.entries()) {
      const outcome = outcomes[i] as Outcome;
      const again = outcome.status === "retry" && notice.attempts < MAX_ATTEMPTS;
      await db(tx)
        .updateTable("release_notices")
        .set(
          outcome.status === "sent"
            ? { status: "sent", sent_at: at, lease_until: null, last_error: null }
            : again
              ? {
                  status: "queued",
                  lease_until: null,
                  due_at: at + RETRY_AFTER_MS,
                  last_error: outcome.reason.slice(0, 500),
                }
              : {
                  status: outcome.status === "skipped" ? "skipped" : "failed",
                  lease_until: null,
                  last_error: "reason" in outcome ? outcome.reason.slice(0, 500) : null,
                },
        )
        .where("release_id", "=", notice.release_id)
        .where("email", "=", notice.email)
        // Only while this sender still holds it: one that lost its lease leaves the row alone.
        .where("lease_until", "=", leaseUntil)
        .execute();
    }
  });
  const sent = outcomes.filter((o) => o.status === "sent").length;
  ctx.log.info("update mails sent", { claimed: claimed.length, sent });
  for (const [i, o] of outcomes.entries())
    if (o.status !== "sent")
      ctx.log.warn(`update mail ${o.status}`, { email: claimed[i]?.email, reason: o.reason });
  return { claimed: claimed.length, sent };
}

interface Claimed {
  release_id: string;
  email: string;
  attempts: number;
}

async function claimNotices(
  ctx: Ctx,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<Claimed[]> {
  const postgres = ctx.db.getExecutor().adapter instanceof PostgresAdapter;
  const free = (w: ExpressionBuilder<Database, "release_notices">) =>
    w.or([w("lease_until", "is", null), w("lease_until", "<", now)]);
  // The rows are chosen first and then leased by their keys, in one transaction: as one
  // `update ... where (key) in (select ... limit n for update skip locked)`, Postgres may run the
  // subquery again for each row it updates and take far more than n (seen: 100 for 10).
  return withTransaction(ctx, async (tx) => {
    let due = db(tx)
      .selectFrom("release_notices")
      .select(["release_id", "email"])
      .where("status", "=", "queued")
      .where("due_at", "<=", now)
      .where(free)
      .orderBy("due_at")
      .limit(limit);
    if (postgres) due = due.forUpdate().skipLocked();
    const keys = await due.execute();
    if (!keys.length) return [];
    return db(tx)
      .updateTable("release_notices")
      .set({ lease_until: leaseUntil, attempts: sql<number>`attempts + 1` })
      .where((eb) =>
        eb.or(
          keys.map((k) => eb.and([eb("release_id", "=", k.release_id), eb("email", "=", k.email)])),
        ),
      )
      .where("status", "=", "queued")
      .where(free)
      .returning(["release_id", "email", "attempts"])
      .execute();
  });
}

/** Mails each claimed notice, all at once: the links made together, the outcomes in order. */
async function mailNotices(ctx: Ctx, claimed: Claimed[]): Promise<Outcome[]> {
  const releaseIds = [...new Set(claimed.map((n) => n.release_id))];
  const emails = [...new Set(claimed.map((n) => n.email))];
  const [releases, unsubscribed] = await Promise.all([
    db(ctx)
      .selectFrom("releases as r")
      .innerJoin("products as p", "p.id", "r.product_id")
      .select(["r.id", "r.product_id", "r.version", "r.notes", "r.changes", "p.name"])
      .where("r.id", "in", releaseIds)
      .execute(),
    db(ctx).selectFrom("mail_unsubscribes").select("email").where("email", "in", emails).execute(),
  ]);
  const releaseOf = new Map(releases.map((r) => [r.id, r]));
  const off = new Set(unsubscribed.map((u) => u.email));
  const outcomes: (Outcome | null)[] = claimed.map((n) =>
    off.has(n.email)
      ? { status: "skipped", reason: "unsubscribed" }
      : releaseOf.has(n.release_id)
        ? null
        : { status: "skipped", reason: "no such release" },
  );
  const toMail = claimed.flatMap((n, i) => (outcomes[i] ? [] : [{ n, i }]));
  let links: (CreatedToken | Error)[];
  try {
    links = toMail.length
      ? await createDownloadTokens({
          ctx: { ...ctx, actor: system },
          input: toMail.map(({ n }) => ({
            email: n.email,
            productId: releaseOf.get(n.release_id)?.product_id as string,
          })),
        })
      : [];
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    links = toMail.map(() => failure);
  }
  await Promise.all(
    toMail.map(async ({ n, i }, k) => {
      const release = releaseOf.get(n.release_id);
      const link = links[k] as CreatedToken | Error;
      if (!release) return;
      // No access any more (refunded or revoked since it was queued): nothing to tell.
      if (link instanceof Error) {
        outcomes[i] = isAppError(link)
          ? { status: "skipped", reason: `no access: ${link.message}` }
          : { status: "retry", reason: link.message };
        return;
      }
      try {
        await ctx.mailer.send({
          kind: "release",
          to: n.email,
          productName: release.name,
          version: release.version,
          notes: release.notes,
          changes: JSON.parse(release.changes) as ReleaseChanges,
          link,
          unsubscribeUrl: await unsubscribeUrl(ctx, n.email),
        });
        outcomes[i] = { status: "sent" };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        outcomes[i] = isPermanentMailFailure(error)
          ? { status: "failed", reason }
          : { status: "retry", reason };
      }
    }),
  );
  return outcomes as Outcome[];
}

/**
 * Sends every due notice no live sender holds, a batch at a time, at most `budget` of them (by
 * default the rate's minute), waiting `pace` between batches so the rate holds. Housekeeping
 * without a background sender and the Cron Trigger call it; safe from several processes at once.
 */
export async function sendDueNotices({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { budget?: number; pace?: (ms: number) => Promise<void> };
}): Promise<number> {
  let left = input.budget ?? ctx.settings.releaseMailRate;
  let sent = 0;
  while (left > 0) {
    const started = Date.now();
    const limit = Math.min(left, noticeBatchSize(ctx));
    const batch = await sendQueuedNotices({ ctx, input: { limit } });
    sent += batch.sent;
    left -= batch.claimed;
    if (batch.claimed < limit || left <= 0) break;
    const wait = noticeBatchInterval(ctx, batch.claimed) - (Date.now() - started);
    if (input.pace && wait > 0) await input.pace(wait);
  }
  return sent;
}

/** After the publishing commit: the runtime's sender is told, so the first batch leaves now. */
export function noticesQueued(ctx: Ctx, queued: number): void {
  if (queued > 0) ctx.noticeSender?.wake();
}

/**
 * The Node runtime's background sender of update mails: woken at start and after a publish, it
 * drains the due notices a batch at a time, waiting between batches so that it never sends more
 * than the configured rate a minute (RELEASE_MAIL_RATE). One drain at a time in this process;
 * other processes run their own, and the leases keep them apart.
 */
export function backgroundNoticeSender(log: Ctx["log"]): ReceiptSender & DrainLoop {
  // The pause between batches, cut short by stop().
  let wakeUp: (() => void) | null = null;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wakeUp = null;
    });
  return drainLoop({
    log,
    failure: "update mail sender failed; the notices stay queued",
    onStop: () => (wakeUp as (() => void) | null)?.(),
    drain: async (c, stopped) => {
      for (;;) {
        const started = Date.now();
        const { claimed } = await sendQueuedNotices({ ctx: c });
        if (!claimed || stopped()) break;
        const wait = noticeBatchInterval(c, claimed) - (Date.now() - started);
        if (wait > 0) await pause(wait);
        if (stopped()) break;
      }
    },
  });
}
