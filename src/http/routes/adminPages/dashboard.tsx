import { Hono } from "hono";
import { countSharingFlags } from "../../../core/downloads/sharingFlags.ts";
import { listOrdersWithNames } from "../../../core/orders/listOrders.ts";
import { listUndelivered } from "../../../core/orders/watchdog.ts";
import { listWebhookEvents } from "../../../core/orders/webhookEvents.ts";
import { salesAndDownloads } from "../../../core/reports.ts";
import { DashboardPage } from "../../../pages/admin/dashboard.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";

export const dashboardPages = new Hono<HonoEnv>().get("/admin", async (c) => {
  const ctx = c.get("ctx");
  const [report, orders, failedEvents, undelivered, sharingFlags] = await Promise.all([
    salesAndDownloads({ ctx, input: { days: 30, timeZone: c.get("shop").timeZone } }),
    listOrdersWithNames({ ctx, input: { limit: 8, checkout: "completed" } }),
    listWebhookEvents({ ctx, input: { limit: 10, status: "failed" } }),
    // Receipts stuck or bounced, downloads not made: the last 30 days', like the figures.
    listUndelivered({ ctx, input: { limit: 20 } }),
    countSharingFlags({ ctx }),
  ]);
  return c.html(
    <DashboardPage
      {...pageProps(c)}
      report={report}
      orders={orders}
      failedEvents={failedEvents}
      undelivered={undelivered}
      sharingFlags={sharingFlags}
    />,
  );
});
