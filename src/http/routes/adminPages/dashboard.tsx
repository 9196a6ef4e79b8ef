import { Hono } from "hono";
import { listOrdersWithNames } from "../../../core/orders/listOrders.ts";
import { listWebhookEvents } from "../../../core/orders/webhookEvents.ts";
import { salesAndDownloads } from "../../../core/reports.ts";
import { DashboardPage } from "../../../pages/admin/dashboard.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";

const BOUNCES_SHOWN_MS = 30 * 86_400_000;

export const dashboardPages = new Hono<HonoEnv>().get("/admin", async (c) => {
  const ctx = c.get("ctx");
  const [report, orders, failedEvents, bounced] = await Promise.all([
    salesAndDownloads({ ctx, input: { days: 30, timeZone: c.get("shop").timeZone } }),
    listOrdersWithNames({ ctx, input: { limit: 8, checkout: "completed" } }),
    listWebhookEvents({ ctx, input: { limit: 10, status: "failed" } }),
    listOrdersWithNames({ ctx, input: { limit: 10, status: "paid", receipt: "bounced" } }),
  ]);
  // The last 30 days' bounces, like the figures; older ones stay on their orders.
  const since = new Date(ctx.clock.now() - BOUNCES_SHOWN_MS).toISOString();
  const bouncedReceipts = bounced.filter((o) => (o.receiptBounce?.at ?? "") >= since);
  return c.html(
    <DashboardPage
      {...pageProps(c)}
      report={report}
      orders={orders}
      failedEvents={failedEvents}
      bouncedReceipts={bouncedReceipts}
    />,
  );
});
