import type { Child } from "hono/jsx";
import type { SellerLicense } from "../../core/licenses/sellerLicenses.ts";
import type { OrderDetails } from "../../core/orders/orderDetails.ts";
import type { OrderStatus as Status } from "../../db/schema.ts";
import { Field } from "../field.tsx";
import { formatDate, formatPrice } from "../format.ts";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { LicenseTable } from "./licenses.tsx";
import { EntitlementStatus, EventStatus, OrderStatus } from "./statuses.tsx";
import { ActionButton, Badge, DataTable, FormError, shortTime } from "./ui.tsx";

export const ORDER_STATUSES = [
  "paid",
  "pending",
  "refunded",
  "disputed",
  "failed",
  "abandoned",
] as const satisfies readonly Status[];

const MEANING: Record<Status, string> = {
  paid: "Paid: the buyer has access.",
  pending:
    "Waiting for the payment: the checkout is open, or a bank payment is on its way. No access yet.",
  failed: "The payment failed. No access was given.",
  abandoned: "The checkout expired without a payment.",
  refunded: "Refunded in Stripe.",
  disputed: "The buyer disputed the payment with their bank: access is paused until it closes.",
};

export interface OrderFilters {
  status: string;
  email: string;
}

export function OrdersPage(
  props: AdminPageProps & {
    orders: RecentOrder[];
    filters: OrderFilters;
    /** The query string for the next (older) page, when there is one. */
    olderHref: string | null;
    firstPage: boolean;
  },
) {
  const { filters } = props;
  const filtered = Boolean(filters.status || filters.email);
  return (
    <AdminLayout {...props} title="Orders" section="orders">
      <h1>Orders</h1>
      <form method="get" action="/admin/orders" class="card">
        <div class="row">
          <Field id="status" label="Status">
            <select id="status" name="status">
              <option value="">Any status</option>
              {ORDER_STATUSES.map((s) => (
                <option value={s} selected={filters.status === s}>
                  {s}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="email"
            label="Customer email"
            input={{ name: "email", type: "text", inputmode: "email", value: filters.email }}
          />
        </div>
        <div class="actions">
          <button type="submit">Show orders</button>
          {filtered ? <a href="/admin/orders">Clear filters</a> : null}
        </div>
      </form>
      <DataTable
        caption="Orders, newest first"
        head={["Date", "Product", "Customer", "Amount", "Status"]}
        empty={
          filtered
            ? "No orders match these filters."
            : "No orders yet. They appear here as soon as a buyer starts a checkout."
        }
      >
        {orderRows(props.orders)}
      </DataTable>
      <p class="actions">
        {props.firstPage ? null : (
          <a href={`/admin/orders${filterQuery(filters)}`}>Newest orders</a>
        )}
        {props.olderHref ? <a href={props.olderHref}>Older orders</a> : null}
      </p>
    </AdminLayout>
  );
}

export function filterQuery(filters: OrderFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.email) params.set("email", filters.email);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function OrderPage(
  props: AdminPageProps & {
    details: OrderDetails;
    /** The licence keys this order's access carries. */
    licenses: SellerLicense[];
    error?: string | null;
  },
) {
  const { order, product, entitlements, events, userEmail, receipt } = props.details;
  const amount = formatPrice(order.amount, order.currency);
  const who = order.email ?? userEmail;
  return (
    <AdminLayout {...props} title={`Order ${order.id}`} section="orders">
      <p>
        <a href="/admin/orders">← Orders</a>
      </p>
      <h1>
        Order <code>{order.id}</code>
      </h1>
      <FormError message={props.error} />
      <p>
        <OrderStatus status={order.status} flag={order.flag} /> {MEANING[order.status]}
      </p>
      {receipt === "bounced" ? (
        <p class="notice bad" id="receipt-bounced">
          <strong>The receipt bounced.</strong> The mail server for {who ?? "the buyer"} refused it
          for good, so Tollgate stopped sending it: {order.receipt_bounce_reason}. The buyer still
          has access. Check the address with them, then resend the receipt.
        </p>
      ) : null}
      {order.flag ? (
        <p class="notice bad">
          <strong>Flagged: {order.flag}.</strong> The payment did not match what the shop started at
          checkout, so no access was given. Look at the payment in Stripe: refund it there, or, if
          it is genuine, grant access on the <a href="/admin/customers">Customers page</a>.
        </p>
      ) : null}

      <section class="card" aria-labelledby="facts">
        <h2 id="facts" style="margin-top:0">
          Details
        </h2>
        <table class="facts">
          <tbody>
            <Fact name="Product">
              <a href={`/admin/products/${product.slug}`}>{product.name}</a>
            </Fact>
            <Fact name="Customer">
              {who ? <a href={`/admin/customers?email=${encodeURIComponent(who)}`}>{who}</a> : "—"}
            </Fact>
            {order.user_id ? (
              <Fact name="Account">
                {userEmail ?? "—"} <span class="muted">(signed in at checkout)</span>
              </Fact>
            ) : null}
            <Fact name="Amount">{amount}</Fact>
            <Fact name="Started">{formatDate(order.created_at)}</Fact>
            <Fact name="Last change">{formatDate(order.updated_at)}</Fact>
            <Fact name="Receipt">
              {receipt === "bounced" ? (
                <>
                  <Badge tone="bad">bounced</Badge>{" "}
                  {formatDate(order.receipt_bounced_at ?? order.updated_at)}
                </>
              ) : order.receipt_delivered_at ? (
                `sent ${formatDate(order.receipt_delivered_at)}`
              ) : order.receipt_sent_at ? (
                "not delivered yet: sent again automatically"
              ) : (
                "not sent"
              )}
            </Fact>
            <Fact name="Checkout session">
              <Id value={order.checkout_session_id} />
            </Fact>
            <Fact name="Payment intent">
              <Id value={order.payment_intent_id} />
            </Fact>
            {order.subscription_id ? (
              <Fact name="Subscription">
                <Id value={order.subscription_id} />
              </Fact>
            ) : null}
            <Fact name="Stripe customer">
              <Id value={order.customer_id} />
            </Fact>
          </tbody>
        </table>
      </section>

      {order.status === "paid" ? (
        <section class="card" aria-labelledby="actions">
          <h2 id="actions" style="margin-top:0">
            Actions
          </h2>
          <div class="actions">
            {order.subscription_id ? null : order.payment_intent_id ? (
              <ActionButton
                action={`/admin/orders/${order.id}/refund`}
                label={`Refund ${amount}`}
                secondary={false}
                confirm={`Refund ${amount} to ${who ?? "the buyer"}? Stripe returns the money and the buyer loses access to ${product.name}.`}
              />
            ) : null}
            <ActionButton
              action={`/admin/orders/${order.id}/resend-receipt`}
              label="Resend receipt"
            />
          </div>
          <p class="muted" style="margin:12px 0 0">
            {order.subscription_id
              ? "This is a subscription: cancel or refund it in Stripe's dashboard. Access follows Stripe's events on its own."
              : order.payment_intent_id
                ? "A refund returns the whole amount. Access ends when Stripe confirms the refund, usually within seconds."
                : "Nothing was charged for this order, so there is nothing to refund."}{" "}
            The receipt goes to {who ?? "the buyer"} with a fresh download link.
          </p>
        </section>
      ) : null}

      <h2>Access from this order</h2>
      <DataTable
        caption="Access from this order"
        head={["Owner", "Status", "Since", "Until", "Note"]}
        empty={
          order.status === "pending"
            ? "None yet: access is given when the payment is confirmed."
            : "This order gave no access."
        }
      >
        {entitlements.map((e) => (
          <tr>
            <td>{e.email ?? userEmail ?? e.user_id}</td>
            <td>
              <EntitlementStatus status={e.status} />
            </td>
            <td>{formatDate(e.starts_at)}</td>
            <td>{e.ends_at ? formatDate(e.ends_at) : "no end"}</td>
            <td class="wrap">{e.revoked_reason ?? ""}</td>
          </tr>
        ))}
      </DataTable>

      {props.licenses.length ? (
        <>
          <h2>Licence key</h2>
          <LicenseTable
            caption="Licence keys from this order"
            licenses={props.licenses}
            empty=""
            showOwner={false}
          />
        </>
      ) : null}

      <h2>Stripe events</h2>
      <DataTable
        caption="Stripe events about this order"
        head={["Received", "Event", "Result", "Note"]}
        empty="No Stripe events about this order have arrived."
      >
        {events.map((e) => (
          <tr>
            <td>
              <a href={`/admin/webhooks#${e.id}`}>{formatDate(e.receivedAt)}</a>
            </td>
            <td>
              <code>{e.type}</code>
            </td>
            <td>
              <EventStatus status={e.status} />
            </td>
            <td class="wrap">{e.error ?? ""}</td>
          </tr>
        ))}
      </DataTable>
    </AdminLayout>
  );
}

function Fact({ name, children }: { name: string; children: Child }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>{children}</td>
    </tr>
  );
}

function Id({ value }: { value: string | null }) {
  return value ? <code>{value}</code> : <span class="muted">—</span>;
}

export interface RecentOrder {
  id: string;
  product: string;
  status: string;
  email: string | null;
  amount: number;
  currency: string;
  flag: string | null;
  /** What became of the receipt: "sent", "pending" or "bounced". */
  receipt?: string;
  /** When and why the receipt bounced, when it did. */
  receiptBounce?: { at: string | null; reason: string } | null;
  createdAt: string | null;
}

/** One row per order: date (linking to the order), product, customer, amount, status. */
export function orderRows(orders: RecentOrder[]) {
  return orders.map((o) => (
    <tr>
      <td>
        <a href={`/admin/orders/${o.id}`}>{shortTime(o.createdAt)}</a>
      </td>
      <td>{o.product}</td>
      <td>{o.email ?? "—"}</td>
      <td>{formatPrice(o.amount, o.currency)}</td>
      <td>
        <OrderStatus status={o.status} flag={o.flag} receipt={o.receipt} />
      </td>
    </tr>
  ));
}
