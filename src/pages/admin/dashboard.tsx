import type { SalesAndDownloads } from "../../core/reports.ts";
import { formatPrice } from "../format.ts";
import { DailyChart } from "./chart.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { OrderTable, orderColumns, type RecentOrder } from "./orders.tsx";
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
    /** Paid orders whose receipt bounced lately, the latest first. */
    bouncedReceipts: RecentOrder[];
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
      {props.bouncedReceipts.length ? (
        <section aria-labelledby="bounced">
          <h2 id="bounced">Receipts that bounced</h2>
          <p class="notice bad">
            The buyer's mail server refused these receipts for good, so Tollgate stopped sending
            them. The buyers still have access: check the address with them, then resend the receipt
            from the order.
          </p>
          <StackTable
            caption="Receipts that bounced"
            rows={props.bouncedReceipts}
            columns={[
              {
                label: "Bounced",
                kind: "title",
                cell: (o) => (
                  <a href={`/admin/orders/${o.id}`}>{shortTime(o.receiptBounce?.at ?? null)}</a>
                ),
              },
              orderColumns.customer,
              orderColumns.product,
              { label: "Reason", kind: "wrap", cell: (o) => o.receiptBounce?.reason },
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
