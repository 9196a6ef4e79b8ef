import type { Child } from "hono/jsx";
import type { OrderDownloads } from "../../core/downloads/resetDownloads.ts";
import type { SellerLicense } from "../../core/licenses/sellerLicenses.ts";
import { itemised, orderCharges, orderTaxIds } from "../../core/orders/charges.ts";
import type { OrderCorrection } from "../../core/orders/emailCorrections.ts";
import type { OrderDetails } from "../../core/orders/orderDetails.ts";
import { orderReference } from "../../core/orders/reference.ts";
import type { OrderStatus as Status } from "../../db/schema.ts";
import { chargeLines, taxIdText } from "../charges.ts";
import { Field } from "../field.tsx";
import { formatPrice } from "../format.ts";
import { When } from "../shop.tsx";
import { OrderDownloadCounts } from "./downloadLimits.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { LicenseTable } from "./licenses.tsx";
import { EntitlementStatus, EventStatus, OrderStatus } from "./statuses.tsx";
import { ActionButton, Badge, type Column, FormError, StackTable, shortTime } from "./ui.tsx";

/** The orders page's filters: a status, or the checkouts that were never completed. */
export const ORDER_FILTERS = {
  paid: "Paid",
  pending: "Waiting for payment",
  refunded: "Refunded",
  disputed: "Disputed",
  failed: "Failed",
  unfinished: "Checkouts not completed",
} as const;

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
  status: "" | keyof typeof ORDER_FILTERS;
  email: string;
}

export function OrdersPage(
  props: AdminPageProps & {
    orders: RecentOrder[];
    filters: OrderFilters;
    /** Checkouts left out of the unfiltered list, started in the last `unfinished.days` days. */
    unfinished: { count: number; days: number };
    /** The query string for the next (older) page, when there is one. */
    olderHref: string | null;
    firstPage: boolean;
  },
) {
  const { filters, unfinished } = props;
  const filtered = Boolean(filters.status || filters.email);
  return (
    <AdminLayout {...props} title="Orders" section="orders">
      <div class="actions" style="justify-content:space-between">
        <h1>Orders</h1>
        <a class="btn secondary small" href="/api/admin/orders.csv" download>
          Export CSV
        </a>
      </div>
      <form method="get" action="/admin/orders" class="card">
        <div class="row">
          <Field id="status" label="Show">
            <select id="status" name="status">
              <option value="">All orders</option>
              {Object.entries(ORDER_FILTERS).map(([value, label]) => (
                <option value={value} selected={filters.status === value}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="email"
            label="Customer email or order reference"
            input={{ name: "email", type: "text", inputmode: "email", value: filters.email }}
          />
        </div>
        <div class="actions">
          <button type="submit">Show orders</button>
          {filtered ? <a href="/admin/orders">Clear filters</a> : null}
        </div>
      </form>
      {filters.status === "" && unfinished.count ? (
        <p class="muted" id="unfinished">
          Not listed: {unfinished.count} checkout{unfinished.count === 1 ? "" : "s"} started in the
          last {unfinished.days} days and not completed.{" "}
          <a href={`/admin/orders${filterQuery({ ...filters, status: "unfinished" })}`}>
            Show checkouts not completed
          </a>
        </p>
      ) : null}
      {filters.status === "unfinished" ? (
        <p class="muted">
          Checkouts that were started and never paid: the buyer left Stripe's page, or is still on
          it. A guest's email is known only once they pay, so most have no customer.
        </p>
      ) : null}
      <OrderTable
        caption={
          filters.status === "unfinished"
            ? "Checkouts not completed, newest first"
            : "Orders, newest first"
        }
        orders={props.orders}
        empty={
          filtered
            ? "No orders match these filters."
            : "No orders yet. They appear here as soon as a buyer completes a checkout."
        }
      />
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
    /** Downloads of each file under the product's download limit (decision 0021). */
    downloads?: OrderDownloads | null;
    /** Set when the order's access has ended and may be re-opened: the days the form shows. */
    reopen?: { days: string } | null;
    /** The buyer's corrections of a bounced address, the latest first (decision 0024). */
    corrections?: OrderCorrection[];
  },
) {
  const { order, product, entitlements, events, userEmail, receipt } = props.details;
  const charges = orderCharges(order);
  const taxIds = orderTaxIds(order);
  // What a refund returns: everything the buyer paid, tax included.
  const amount = formatPrice(charges.total, order.currency);
  const who = order.email ?? userEmail;
  return (
    <AdminLayout {...props} title={`Order ${orderReference(order.id)}`} section="orders">
      <p>
        <a href="/admin/orders">← Orders</a>
      </p>
      <h1>
        Order <code>{orderReference(order.id)}</code>
      </h1>
      <p class="muted">
        Id <code>{order.id}</code>
      </p>
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
      <Corrections corrections={props.corrections ?? []} />
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
            {itemised(charges) ? (
              chargeLines(charges, order.currency, { country: order.buyer_country, net: true }).map(
                ([name, value]) => (
                  <Fact name={name}>
                    <span data-charge={name}>{value}</span>
                  </Fact>
                ),
              )
            ) : (
              <Fact name="Amount">{amount}</Fact>
            )}
            {taxIds.length ? (
              <Fact name={taxIds.length === 1 ? "Buyer's tax ID" : "Buyer's tax IDs"}>
                {taxIds.map((id, i) => (
                  <>
                    {i ? <br /> : null}
                    {taxIdText(id)}
                  </>
                ))}
              </Fact>
            ) : null}
            {order.buyer_country ? <Fact name="Country">{order.buyer_country}</Fact> : null}
            {order.invoice_id ? (
              <Fact name="Invoice">
                <Id value={order.invoice_id} />
              </Fact>
            ) : null}
            <Fact name="Started">
              <When at={order.created_at} />
            </Fact>
            <Fact name="Last change">
              <When at={order.updated_at} />
            </Fact>
            <Fact name="Receipt">
              {receipt === "bounced" ? (
                <>
                  <Badge tone="bad">bounced</Badge>{" "}
                  <When at={order.receipt_bounced_at ?? order.updated_at} />
                </>
              ) : order.receipt_delivered_at ? (
                <>
                  sent <When at={order.receipt_delivered_at} />
                </>
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

      {props.downloads ? (
        <OrderDownloadCounts downloads={props.downloads} canReset={entitlements.length > 0} />
      ) : null}

      <h2>Access from this order</h2>
      <StackTable
        caption="Access from this order"
        rows={entitlements}
        columns={[
          { label: "Owner", kind: "title", cell: (e) => e.email ?? userEmail ?? e.user_id },
          { label: "Status", cell: (e) => <EntitlementStatus status={e.status} /> },
          { label: "Since", cell: (e) => <When at={e.starts_at} /> },
          { label: "Until", cell: (e) => (e.ends_at ? <When at={e.ends_at} /> : "no end") },
          { label: "Note", kind: "wrap", cell: (e) => e.revoked_reason ?? "" },
        ]}
        empty={
          order.status === "pending"
            ? "None yet: access is given when the payment is confirmed."
            : "This order gave no access."
        }
      />
      {props.reopen ? (
        <section class="card" aria-labelledby="reopen">
          <h2 id="reopen" style="margin-top:0">
            Re-open access
          </h2>
          <p class="muted">
            This order's access has ended. Re-open it for a few days and {who ?? "the buyer"} gets a
            fresh download link by email; the access history records it.
          </p>
          <form method="post" action={`/admin/orders/${order.id}/reopen`}>
            <Field
              id="reopen-days"
              label="Days"
              input={{
                name: "days",
                type: "number",
                inputmode: "numeric",
                min: 1,
                max: 365,
                required: true,
                value: props.reopen.days,
              }}
            />
            <button type="submit">Re-open and mail a fresh link</button>
          </form>
        </section>
      ) : null}

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
      <StackTable
        caption="Stripe events about this order"
        rows={events}
        columns={[
          {
            label: "Received",
            kind: "title",
            cell: (e) => (
              <a href={`/admin/webhooks#${e.id}`}>
                <When at={e.receivedAt} />
              </a>
            ),
          },
          { label: "Event", cell: (e) => <code>{e.type}</code> },
          { label: "Result", cell: (e) => <EventStatus status={e.status} /> },
          { label: "Note", kind: "wrap", cell: (e) => e.error ?? "" },
        ]}
        empty="No Stripe events about this order have arrived."
      />
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

/**
 * What the buyer did about a bounced receipt: the address asked for and not yet proven (the
 * purchase moves when its sign-in link is used), and the moves made. Replaced requests are left
 * out: the latest one is the one that counts.
 */
function Corrections({ corrections }: { corrections: OrderCorrection[] }) {
  const pending = corrections.find((c) => c.status === "pending");
  const used = corrections.filter((c) => c.status === "used");
  if (!pending && !used.length) return null;
  return (
    <div id="email-corrections">
      {pending ? (
        <p class="notice">
          <strong>Correction asked for.</strong> The buyer gave {pending.newEmail} instead. The
          purchase moves to it when they use the sign-in link sent there; until then it stays with{" "}
          {pending.oldEmail ?? "the old address"}. Asked <When at={pending.createdAt} />.
        </p>
      ) : null}
      {used.map((c) => (
        <p class="notice ok">
          <strong>Moved to {c.newEmail}</strong> from {c.oldEmail ?? "the old address"} after the
          receipt bounced, when the buyer signed in with it; the receipt went to the new address.
          Moved <When at={c.usedAt ?? c.createdAt} />.
        </p>
      ))}
    </div>
  );
}

export interface RecentOrder {
  id: string;
  product: string;
  productName: string;
  status: string;
  email: string | null;
  amount: number;
  currency: string;
  /** What was charged (decision 0029); absent on lists that do not carry it. */
  subtotal?: number;
  discount?: number;
  tax?: number;
  total?: number;
  net?: number;
  taxIds?: { type: string; value: string }[];
  country?: string | null;
  invoiceId?: string | null;
  flag: string | null;
  paymentIntentId: string | null;
  subscriptionId: string | null;
  /** What became of the receipt: "sent", "pending" or "bounced". */
  receipt?: string;
  /** When and why the receipt bounced, when it did. */
  receiptBounce?: { at: string | null; reason: string } | null;
  createdAt: string | null;
}

/** A pending order whose checkout was never completed is an open checkout, not a payment due. */
export const statusOf = (o: RecentOrder) =>
  o.status === "pending" && !o.paymentIntentId && !o.subscriptionId ? "checkout open" : o.status;

export const orderColumns = {
  date: {
    label: "Date",
    kind: "title",
    cell: (o) => <a href={`/admin/orders/${o.id}`}>{shortTime(o.createdAt)}</a>,
  },
  product: { label: "Product", cell: (o) => o.productName },
  customer: { label: "Customer", kind: "wrap", cell: (o) => o.email ?? "—" },
  amount: { label: "Amount", cell: (o) => <Charged order={o} /> },
  status: {
    label: "Status",
    cell: (o) => <OrderStatus status={statusOf(o)} flag={o.flag} receipt={o.receipt} />,
  },
} satisfies Record<string, Column<RecentOrder>>;

/** The total paid, itemised under it when a discount or tax changed it, with the tax facts. */
function Charged({ order: o }: { order: RecentOrder }) {
  const charges = {
    subtotal: o.subtotal ?? o.amount,
    discount: o.discount ?? 0,
    tax: o.tax ?? 0,
    total: o.total ?? o.amount,
    ...(o.net === undefined ? {} : { net: o.net }),
  };
  const notes = [
    ...(itemised(charges)
      ? chargeLines(charges, o.currency, { country: o.country ?? null, net: true })
          .filter(([name]) => name !== "Total paid")
          .map(([name, value]) => `${name} ${value}`)
      : []),
    ...(o.taxIds ?? []).map((id) => `Tax ID ${taxIdText(id)}`),
    ...(o.country && (itemised(charges) || o.taxIds?.length) ? [o.country] : []),
    ...(o.invoiceId ? [`Invoice ${o.invoiceId}`] : []),
  ];
  return (
    <>
      {formatPrice(charges.total, o.currency)}
      {notes.length ? (
        <span class="muted charge-notes">
          {notes.map((note) => (
            <>
              <br />
              {note}
            </>
          ))}
        </span>
      ) : null}
    </>
  );
}

/** One row per order: date (linking to the order), product, customer, amount, status. */
export function OrderTable(props: { caption: string; orders: RecentOrder[]; empty: string }) {
  const c = orderColumns;
  return (
    <StackTable
      caption={props.caption}
      rows={props.orders}
      columns={[c.date, c.product, c.customer, c.amount, c.status]}
      empty={props.empty}
    />
  );
}
