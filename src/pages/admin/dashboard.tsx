import type { UndeliveredOrder } from "../../core/orders/watchdog.ts";
import type { SalesAndDownloads } from "../../core/reports.ts";
import { formatPrice } from "../format.ts";
import { DailyChart } from "./chart.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { OrderTable, type RecentOrder } from "./orders.tsx";
import { StackTable, shortTime } from "./ui.tsx";

export interface FailedEvent {
  id: string;
  type: string;
  error: string | null;
  receivedAt: string | null;
}

export function DashboardPage(
  props: AdminPageProps & {
    report: SalesAndDownloads;
    orders: RecentOrder[];
    failedEvents: FailedEvent[];
    /** Paid orders of the last 30 days whose delivery is stuck, with why (decision 0023). */
    undelivered: UndeliveredOrder[];
    /** Buyers flagged by sharing detection now (decision 0028). */
    sharingFlags?: number;
  },
) {
  const { totals, days } = props.report;
  const period = `last ${days.length} days`;
  return (
    <AdminLayout {...props} title="Dashboard" section="dashboard">
      <h1>Dashboard</h1>
      <div class="stats">
        <Stat label={`Sales, ${period}`} value={String(totals.sales)} />
        <Stat
          label={`Revenue, ${period}`}
          value={
            totals.revenue.length
              ? totals.revenue.map((r) => formatPrice(r.amount, r.currency)).join(" + ")
              : formatPrice(0, "usd")
          }
        />
        <Stat label={`Downloads, ${period}`} value={String(totals.downloads)} />
        <Stat label="Webhook events not applied" value={String(totals.failedWebhooks)} />
      </div>
      <DailyChart days={days} timeZone={props.shop.timeZone} />
      {props.sharingFlags ? (
        <section aria-labelledby="sharing">
          <h2 id="sharing">Possibly shared</h2>
          <p class="notice warn">
            {props.sharingFlags === 1
              ? "1 buyer's downloads"
              : `${props.sharingFlags} buyers' downloads`}{" "}
            came from more networks or devices than you allow. Their next download asks them to
            confirm by email. <a href="/admin/sharing">See the evidence</a>
          </p>
        </section>
      ) : null}
      {props.failedEvents.length ? (
        <section aria-labelledby="failed">
          <h2 id="failed">Webhook deliveries that failed</h2>
          <p class="notice bad">
            These events were not applied. Fix the cause, then replay them on the{" "}
            <a href="/admin/webhooks?status=failed">webhooks page</a>; Stripe also retries on its
            own.
          </p>
          <StackTable
            caption="Failed webhook events"
            rows={props.failedEvents}
            columns={[
              {
                label: "Received",
                kind: "title",
                cell: (e) => <a href={`/admin/webhooks#${e.id}`}>{shortTime(e.receivedAt)}</a>,
              },
              { label: "Event", cell: (e) => <code>{e.type}</code> },
              { label: "Error", kind: "wrap", cell: (e) => e.error },
            ]}
            empty=""
          />
        </section>
      ) : null}
      {props.undelivered.length ? (
        <section aria-labelledby="undelivered">
          <h2 id="undelivered">Paid but not yet delivered</h2>
          <p class="notice bad">
            These buyers paid but may not have their files: the receipt has not gone out 10 minutes
            after payment, bounced, or nothing was downloaded yet. Tollgate retries receipts and
            sends one download reminder by itself. Receipts that bounced are not sent again: check
            the address with the buyer, then resend the receipt from the order.
          </p>
          <StackTable
            caption="Paid but not yet delivered"
            rows={props.undelivered}
            columns={[
              {
                label: "Order",
                kind: "title",
                cell: (o) => (
                  <a href={`/admin/orders/${o.id}`}>
                    <code>{o.reference}</code>
                  </a>
                ),
              },
              { label: "Paid", cell: (o) => shortTime(new Date(o.paidAt).toISOString()) },
              { label: "Customer", kind: "wrap", cell: (o) => o.email ?? "no address" },
              { label: "Product", kind: "wrap", cell: (o) => o.productName },
              { label: "Why", kind: "wrap", cell: (o) => o.why },
            ]}
            empty=""
          />
        </section>
      ) : null}
      <h2>Recent orders</h2>
      <OrderTable
        caption="Recent orders"
        orders={props.orders}
        empty="No orders yet. They appear here as soon as a buyer completes a checkout."
      />
      <p>
        <a href="/admin/orders">All orders</a>
      </p>
    </AdminLayout>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div class="stat">
      <span class="value">{value}</span>
      <span class="muted">{label}</span>
    </div>
  );
}
