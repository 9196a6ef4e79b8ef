import { sql } from "kysely";
import { type Ctx, db } from "../context.ts";
import { rateLimited } from "../errors.ts";

/**
 * Counts one hit against `key` in a fixed window kept in the database, so every process of a
 * scaled-out deployment shares the count. Throws rate_limited once `limit` hits are exceeded.
 */
export async function hitRateLimit(
  ctx: Ctx,
  key: string,
  limit: number,
  windowSeconds: number,
  message: string,
): Promise<void> {
  const now = ctx.clock.now();
  const windowStart = now - windowSeconds * 1000;
  const row = await db(ctx)
    .insertInto("rate_limits")
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        count: sql`case when rate_limits.window_start <= ${windowStart} then 1 else rate_limits.count + 1 end`,
        window_start: sql`case when rate_limits.window_start <= ${windowStart} then ${now} else rate_limits.window_start end`,
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
}
