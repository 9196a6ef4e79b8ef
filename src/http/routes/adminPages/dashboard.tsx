import { Hono } from "hono";
import { listOrders } from "../../../core/orders/listOrders.ts";
import { listWebhookEvents } from "../../../core/orders/webhookEvents.ts";
import { salesAndDownloads } from "../../../core/reports.ts";
import { DashboardPage } from "../../../pages/admin/dashboard.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";

export const dashboardPages = new Hono<HonoEnv>().get("/admin", async (c) => {
  const ctx = c.get("ctx");
  const [report, orders, failedEvents] = await Promise.all([
    salesAndDownloads({ ctx, input: { days: 30 } }),
    listOrders({ ctx, input: { limit: 8 } }),
    listWebhookEvents({ ctx, input: { limit: 10, status: "failed" } }),
  ]);
  return c.html(
    <DashboardPage {...pageProps(c)} report={report} orders={orders} failedEvents={failedEvents} />,
  );
});
