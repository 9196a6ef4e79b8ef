import type { SalesAndDownloads } from "../../core/reports.ts";
import { formatPrice } from "../format.ts";
import { DailyChart } from "./chart.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { orderRows, type RecentOrder } from "./orders.tsx";
import { DataTable } from "./ui.tsx";

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
  return (
    <AdminLayout {...props} title="Dashboard" section="dashboard">
      <h1>Dashboard</h1>
      <div class="stats">
        <Stat label={`Sales, last ${days.length} days`} value={String(totals.sales)} />
        <Stat
          label="Revenue"
          value={
            totals.revenue.length
              ? totals.revenue.map((r) => formatPrice(r.amount, r.currency)).join(" + ")
              : formatPrice(0, "usd")
          }
        />
        <Stat label="Downloads" value={String(totals.downloads)} />
        <Stat label="Failed webhooks" value={String(totals.failedWebhooks)} />
      </div>
      <DailyChart days={days} />
      {props.failedEvents.length ? (
        <section aria-labelledby="failed">
          <h2 id="failed">Webhook deliveries that failed</h2>
          <p class="notice bad">
            These events were not applied. Fix the cause, then replay them on the{" "}
            <a href="/admin/webhooks?status=failed">webhooks page</a>; Stripe also retries on its
            own.
          </p>
          <DataTable caption="Failed webhook events" head={["Received", "Event", "Error"]} empty="">
            {props.failedEvents.map((e) => (
              <tr>
                <td>{e.receivedAt?.slice(0, 16).replace("T", " ")}</td>
                <td>
                  <code>{e.type}</code>
                </td>
                <td class="wrap">{e.error}</td>
              </tr>
            ))}
          </DataTable>
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
          <DataTable
            caption="Receipts that bounced"
            head={["Bounced", "Customer", "Product", "Reason"]}
            empty=""
          >
            {props.bouncedReceipts.map((o) => (
              <tr>
                <td>
                  <a href={`/admin/orders/${o.id}`}>
                    {o.receiptBounce?.at?.slice(0, 16).replace("T", " ")}
                  </a>
                </td>
                <td>{o.email ?? "—"}</td>
                <td>{o.product}</td>
                <td class="wrap">{o.receiptBounce?.reason}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      ) : null}
      <h2>Recent orders</h2>
      <DataTable
        caption="Recent orders"
        head={["Date", "Product", "Customer", "Amount", "Status"]}
        empty="No orders yet. They appear here as soon as a buyer starts a checkout."
      >
        {orderRows(props.orders)}
      </DataTable>
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
