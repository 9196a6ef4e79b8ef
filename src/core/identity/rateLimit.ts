import { sql } from "kysely";
import { type Ctx, db } from "../context.ts";
import { rateLimited } from "../errors.ts";

/** One counted hit: the key and the window it was counted in, so it can be given back. */
export interface RateLimitHit {
  key: string;
  windowStart: number;
}

/**
 * Counts one hit against `key` in a fixed window kept in the database, so every process of a
 * scaled-out deployment shares the count. Throws rate_limited once `limit` hits are exceeded.
 * Windows stay within a day: maintenance deletes rows whose window started a day ago.
 */
export async function hitRateLimit(
  ctx: Ctx,
  key: string,
  limit: number,
  windowSeconds: number,
  message: string,
): Promise<RateLimitHit> {
  const now = ctx.clock.now();
  const windowStart = now - windowSeconds * 1000;
  const row = await db(ctx)
    .insertInto("rate_limits")
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        // A window that starts in the future (the clock stepped back, a skewed process) is over
        // too, or it would never end.
        count: sql`case when rate_limits.window_start <= ${windowStart} or rate_limits.window_start > ${now} then 1 else rate_limits.count + 1 end`,
        window_start: sql`case when rate_limits.window_start <= ${windowStart} or rate_limits.window_start > ${now} then ${now} else rate_limits.window_start end`,
      }),
    )
    .returning(["count", "window_start"])
    .executeTakeFirstOrThrow();
  if (row.count > limit) {
    const retryAfter = Math.max(
      1,
      Math.ceil((Number(row.window_start) + windowSeconds * 1000 - now) / 1000),
    );
    throw rateLimited(message, retryAfter);
  }
  return { key, windowStart: Number(row.window_start) };
}

/**
 * Gives one counted hit back, for limits that count only failures: count first (so concurrent
 * attempts can never slip past the limit together), give back what turned out not to be one.
 * A window that has since started over is left alone.
 */
export async function refundRateLimit(ctx: Ctx, hit: RateLimitHit): Promise<void> {
  await db(ctx)
    .updateTable("rate_limits")
    .set((eb) => ({ count: eb("count", "-", 1) }))
    .where("key", "=", hit.key)
    .where("window_start", "=", hit.windowStart)
    .where("count", ">", 0)
    .execute();
}

/**
 * The inbox an address reaches, for limits only: case and a `+tag` make no difference, so
 * `A+2@X.com`, `a+1@x.com` and `a@x.com` share one count. Accounts keep the address as typed.
 */
export function mailboxKey(email: string): string {
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf("@");
  if (at < 0) return address;
  const local = address.slice(0, at).split("+")[0] || address.slice(0, at);
  return `${local}@${address.slice(at + 1)}`;
}
