import { type Ctx, db, requireAdmin } from "./context.ts";
import { sweepSharingSignals } from "./downloads/sharing.ts";
import { abandonStaleCheckouts } from "./orders/staleCheckouts.ts";

const DAY_MS = 86_400_000;
/**
 * An expired download link is kept this long: its page still offers "send me a fresh link" to
 * the email on file, and the downloads log can still name it.
 */
export const EXPIRED_LINK_RETENTION_MS = 90 * DAY_MS;
/** Rate-limit windows are minutes long; a day-old counter counts nothing. */
const RATE_LIMIT_RETENTION_MS = DAY_MS;

export interface SweepReport {
  sessions: number;
  loginTokens: number;
  deliveryTokens: number;
  rateLimits: number;
  /** Pending orders whose checkout can no longer be paid, now abandoned. */
  abandonedOrders: number;
}

/**
 * Deletes what can no longer be used: expired sessions and sign-in links, download links long
 * past their expiry, stale rate-limit counters; and marks abandoned the pending orders whose
 * checkout can no longer be paid (see abandonStaleCheckouts). Nothing a buyer owns is touched;
 * running it twice changes nothing the second time.
 */
export async function sweepExpired({ ctx }: { ctx: Ctx }): Promise<SweepReport> {
  requireAdmin(ctx);
  const now = ctx.clock.now();
  const q = db(ctx);
  const count = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
  const report: SweepReport = {
    sessions: count(
      await q.deleteFrom("sessions").where("expires_at", "<=", now).executeTakeFirst(),
    ),
    loginTokens: count(
      await q.deleteFrom("login_tokens").where("expires_at", "<=", now).executeTakeFirst(),
    ),
    deliveryTokens: count(
      await q
        .deleteFrom("delivery_tokens")
        .where("expires_at", "<=", now - EXPIRED_LINK_RETENTION_MS)
        .executeTakeFirst(),
    ),
    rateLimits: count(
      await q
        .deleteFrom("rate_limits")
        .where("window_start", "<=", now - RATE_LIMIT_RETENTION_MS)
        .executeTakeFirst(),
    ),
    abandonedOrders: await abandonStaleCheckouts({ ctx }),
  };
  // Sharing detection's evidence past its window (decision 0028).
  const sharingSignals = await sweepSharingSignals(ctx);
  ctx.log.info("expired records deleted", { ...report, sharingSignals });
  return report;
}
