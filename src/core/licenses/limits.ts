import type { Ctx } from "../context.ts";
import { rateLimited } from "../errors.ts";

/**
 * The public licence API's limits, per minute (LICENSE_RATE_LIMIT, 120 unless set, never under
 * 60): one client (an address) well under 300, one key at least 60, so an app's normal use (a
 * check at start and now and then) is never refused while a script guessing keys or a leaked key
 * spread over many machines is. Counted in this process's memory (decision 0015): no database
 * write per request.
 */
export function hitLicenseLimits(ctx: Ctx, client: string | null, key: string): void {
  const perClient = ctx.settings.licenseRateLimit;
  const perKey = ctx.settings.licenseRateLimit;
  const windowSeconds = 60;
  const wait =
    (client ? ctx.counters.hit(`license:client:${client}`, perClient, windowSeconds) : null) ??
    ctx.counters.hit(`license:key:${key}`, perKey, windowSeconds);
  if (wait !== null)
    throw rateLimited(`Too many licence requests. Try again in ${wait} seconds.`, wait);
}
