import type { Interval } from "./objects.ts";

/**
 * The end of a billing period: `count` intervals after `anchor` (unix seconds), in UTC. Months
 * keep the anchor's day and clamp it to short months (Jan 31 -> Feb 28 -> Mar 31), as Stripe does.
 */
export function addIntervals(anchor: number, interval: Interval, count: number): number {
  const start = new Date(anchor * 1000);
  if (interval === "day" || interval === "week") {
    const days = interval === "day" ? count : 7 * count;
    return anchor + days * 86400;
  }
  const months = interval === "year" ? 12 * count : count;
  const target = start.getUTCMonth() + months;
  const year = start.getUTCFullYear() + Math.floor(target / 12);
  const month = ((target % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const end = Date.UTC(
    year,
    month,
    Math.min(start.getUTCDate(), lastDay),
    start.getUTCHours(),
    start.getUTCMinutes(),
    start.getUTCSeconds(),
  );
  return Math.floor(end / 1000);
}

/** The first period end after `after`, counting whole periods from the billing cycle anchor. */
export function nextPeriodEnd(
  anchor: number,
  interval: Interval,
  intervalCount: number,
  after: number,
): number {
  for (let n = 1; ; n++) {
    const end = addIntervals(anchor, interval, n * intervalCount);
    if (end > after) return end;
  }
}
