import { sql } from "kysely";
import { type Ctx, db, requireAdmin } from "./context.ts";
import { netAmountSql } from "./orders/charges.ts";
import { timeZoneOffsetMs } from "./shop/profile.ts";

const DAY_MS = 86_400_000;

export interface DayFigures {
  /** The day's date, as midnight UTC of that date (epoch ms): label it in UTC. */
  day: number;
  sales: number;
  downloads: number;
}

/**
 * What the seller's dashboard shows: paid orders, revenue and downloads per day of the shop's
 * time zone over the last `days` days, counted in the database so a busy shop does not ship every
 * row to the app. Days are cut at the zone's offset of today (a summer-time change inside the
 * window moves that day's edge by its hour).
 */
export async function salesAndDownloads({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { days: number; timeZone?: string };
}) {
  requireAdmin(ctx);
  const now = ctx.clock.now();
  const offset = timeZoneOffsetMs(input.timeZone ?? "UTC", now);
  const today = Math.floor((now + offset) / DAY_MS);
  const since = (today - input.days + 1) * DAY_MS - offset;
  // Literals, not parameters: Postgres must see the same expression in SELECT and GROUP BY.
  const dayOf = sql<number>`(created_at + ${sql.lit(offset)}) / ${sql.lit(DAY_MS)}`;
  const [sales, downloads, failedWebhooks] = await Promise.all([
    db(ctx)
      .selectFrom("orders")
      .select([dayOf.as("day"), "currency"])
      .select((eb) => [
        eb.fn.countAll<number>().as("count"),
        // Revenue is what the seller keeps before fees: discounts off, tax out (decision 0029).
        eb.fn.sum<number>(netAmountSql).as("amount"),
      ])
      .where("status", "=", "paid")
      .where("created_at", ">=", since)
      .groupBy([dayOf, "currency"])
      .execute(),
    db(ctx)
      .selectFrom("downloads")
      .select(dayOf.as("day"))
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("created_at", ">=", since)
      .groupBy(dayOf)
      .execute(),
    db(ctx)
      .selectFrom("webhook_events")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("status", "=", "failed")
      .executeTakeFirstOrThrow(),
  ]);
  const byDay = new Map<number, DayFigures>();
  for (let d = today - input.days + 1; d <= today; d++)
    byDay.set(d, { day: d * DAY_MS, sales: 0, downloads: 0 });
  const revenue = new Map<string, number>();
  for (const row of sales) {
    const figures = byDay.get(Math.floor(Number(row.day)));
    if (figures) figures.sales += Number(row.count);
    revenue.set(row.currency, (revenue.get(row.currency) ?? 0) + Number(row.amount));
  }
  for (const row of downloads) {
    const figures = byDay.get(Math.floor(Number(row.day)));
    if (figures) figures.downloads += Number(row.count);
  }
  const days = [...byDay.values()];
  return {
    days,
    totals: {
      sales: days.reduce((n, d) => n + d.sales, 0),
      downloads: days.reduce((n, d) => n + d.downloads, 0),
      revenue: [...revenue].map(([currency, amount]) => ({ currency, amount })),
      failedWebhooks: Number(failedWebhooks.count),
    },
  };
}

export type SalesAndDownloads = Awaited<ReturnType<typeof salesAndDownloads>>;
