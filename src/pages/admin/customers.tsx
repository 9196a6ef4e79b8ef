import { type AccessExplanation, describeBy } from "../../core/access/accessHistory.ts";
import type { EntitlementView } from "../../core/access/entitlements.ts";
import type { SellerLicense } from "../../core/licenses/sellerLicenses.ts";
import type { Product } from "../../db/schema.ts";
import { Field } from "../field.tsx";

import { When } from "../shop.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { LicenseTable } from "./licenses.tsx";
import { orderColumns, type RecentOrder } from "./orders.tsx";
import { EntitlementStatus } from "./statuses.tsx";
import { ActionButton, Badge, FormError, StackTable, shortTime } from "./ui.tsx";

const SOURCES: Record<string, string> = {
  purchase: "purchase",
  subscription: "subscription",
  grant: "granted",
  free: "free claim",
};

export interface GrantValues {
  email: string;
  product: string;
}

export function CustomersPage(
  props: AdminPageProps & {
    /** The email searched for, or "" for the recent list. */
    email: string;
    products: Product[];
    entitlements: EntitlementView[];
    /** The searched customer's orders (none for the recent list). */
    orders: RecentOrder[];
    /** The searched customer's licence keys (none for the recent list). */
    licenses: SellerLicense[];
    /** Why the searched customer has each product or not, with its history (none for the recent list). */
    access: AccessExplanation[];
    grant: GrantValues;
    /** What went wrong with the grant form. */
    error?: string | null;
    /** What went wrong with a button's action (resend receipt). */
    actionError?: string | null;
  },
) {
  const groups = groupByOwner(props.entitlements);
  return (
    <AdminLayout {...props} title="Customers" section="customers">
      <h1>Customers</h1>
      <FormError message={props.actionError} />
      <form method="get" action="/admin/customers" class="card">
        <Field
          id="search-email"
          label="Find a customer by email"
          input={{
            name: "email",
            type: "text",
            inputmode: "email",
            value: props.email,
            placeholder: "buyer@example.com",
          }}
        />
        <div class="actions">
          <button type="submit">Find</button>
          {props.email ? <a href="/admin/customers">Recent customers</a> : null}
        </div>
      </form>

      <form method="post" action="/admin/customers/grant" class="card" aria-labelledby="grant">
        <h2 id="grant" style="margin-top:0">
          Give access
        </h2>
        <p class="muted">
          The customer finds the product in their library when they sign in with this email. No
          payment is taken and no email is sent.
        </p>
        <FormError message={props.error} />
        <div class="row">
          <Field
            id="grant-email"
            label="Email"
            input={{
              name: "email",
              type: "email",
              required: true,
              maxlength: 254,
              value: props.grant.email,
            }}
          />
          <Field id="grant-product" label="Product">
            <ProductSelect
              id="grant-product"
              products={props.products}
              value={props.grant.product}
            />
          </Field>
        </div>
        <button type="submit">Grant access</button>
      </form>

      {props.email ? (
        <>
          <h2 style="overflow-wrap:anywhere">Orders by {props.email}</h2>
          <StackTable
            caption={`Orders by ${props.email}`}
            rows={props.orders}
            columns={[
              orderColumns.date,
              orderColumns.product,
              orderColumns.amount,
              orderColumns.status,
              {
                label: "Actions",
                kind: "buttons",
                cell: (o) =>
                  o.status === "paid" ? (
                    <ActionButton
                      action="/admin/customers/resend-receipt"
                      fields={{ order: o.id, email: props.email }}
                      label="Resend receipt"
                    />
                  ) : null,
              },
            ]}
            empty="No orders with this email."
          />
          {props.licenses.length ? (
            <>
              <h2 style="overflow-wrap:anywhere">Licence keys of {props.email}</h2>
              <LicenseTable
                caption={`Licence keys of ${props.email}`}
                licenses={props.licenses}
                empty=""
                showOwner={false}
              />
            </>
          ) : null}
          <h2 style="overflow-wrap:anywhere">Access held by {props.email}</h2>
        </>
      ) : (
        <h2>Recent access, by customer</h2>
      )}
      {groups.length === 0 ? (
        <p class="muted">
          {props.email
            ? "This email owns nothing here yet."
            : "Nobody owns anything yet. Access appears here when a payment is confirmed, a free product is claimed or you grant it."}
        </p>
      ) : (
        groups.map(([owner, rows]) => (
          <section aria-label={owner}>
            {props.email ? null : (
              <h3>
                <a href={`/admin/customers?email=${encodeURIComponent(owner)}`}>{owner}</a>
              </h3>
            )}
            <EntitlementTable owner={owner} rows={rows} back={props.email} />
          </section>
        ))
      )}
      {props.email && props.access.length ? (
        <>
          <h2 style="overflow-wrap:anywhere">Why {props.email} has access, or not</h2>
          {props.access.map((a) => (
            <AccessStory a={a} />
          ))}
        </>
      ) : null}
    </AdminLayout>
  );
}

function EntitlementTable(props: { owner: string; rows: EntitlementView[]; back: string }) {
  return (
    <StackTable
      caption={`Access held by ${props.owner}`}
      rows={props.rows}
      columns={[
        { label: "Product", kind: "title", cell: (e) => e.product_name },
        { label: "From", cell: (e) => SOURCES[e.source] ?? e.source },
        {
          label: "Status",
          cell: (e) => (
            <>
              <EntitlementStatus status={e.status} />
              {e.revoked_reason ? <span class="muted"> ({e.revoked_reason})</span> : null}
            </>
          ),
        },
        { label: "Since", cell: (e) => <When at={e.starts_at} /> },
        { label: "Until", cell: (e) => (e.ends_at ? <When at={e.ends_at} /> : "no end") },
        {
          label: "Revoke",
          kind: "buttons",
          cell: (e) => (e.status === "revoked" ? null : <RevokeForm e={e} {...props} />),
        },
      ]}
      empty=""
    />
  );
}

/** One product: the sentence that answers "why", and every change behind it, newest first. */
function AccessStory({ a }: { a: AccessExplanation }) {
  return (
    <section class="card" aria-label={`Access to ${a.product.name}`}>
      <h3 style="margin-top:0">
        {a.product.name}{" "}
        <Badge tone={a.hasAccess ? "ok" : "muted"}>
          {a.hasAccess ? "has access" : "no access"}
        </Badge>
      </h3>
      <p style="overflow-wrap:anywhere">{a.sentence}</p>
      <StackTable
        caption={`History of access to ${a.product.name}`}
        rows={a.history}
        columns={[
          { label: "When", cell: (e) => shortTime(e.at) },
          { label: "What", cell: (e) => CHANGES[e.change] ?? e.change },
          { label: "Who", cell: (e) => describeBy(e.by) },
          { label: "Why", kind: "wrap", cell: (e) => e.reason ?? "—" },
        ]}
        empty="No changes recorded."
      />
    </section>
  );
}

const CHANGES: Record<string, string> = {
  granted: "granted",
  revoked: "revoked",
  suspended: "suspended",
  restored: "restored",
  expired: "expired",
  limit_changed: "limit changed",
  reopened: "reopened",
  grace_started: "grace started",
  sharing_flagged: "possibly shared",
  sharing_cleared: "sharing flag cleared",
};

function RevokeForm({ e, owner, back }: { e: EntitlementView; owner: string; back: string }) {
  return (
    <form method="post" action="/admin/customers/revoke" class="inline-form">
      <input type="hidden" name="entitlement" value={e.id} />
      <input type="hidden" name="email" value={back} />
      {/* A visually hidden <label> here would escape the table's scroll box. */}
      <input
        id={`reason-${e.id}`}
        aria-label={`Reason for revoking ${e.product_name} (optional)`}
        name="reason"
        type="text"
        maxlength={200}
        placeholder="Reason (optional)"
      />
      <button
        type="submit"
        class="secondary small"
        data-confirm={`Revoke ${owner}'s access to ${e.product_name}? Their downloads stop at once.`}
      >
        Revoke
      </button>
    </form>
  );
}

export function ProductSelect(props: { id: string; products: Product[]; value: string }) {
  return (
    <select id={props.id} name="product" required>
      <option value="">Choose a product</option>
      {props.products.map((p) => (
        <option value={p.slug} selected={props.value === p.slug}>
          {p.name}
          {p.active ? "" : " (draft)"}
        </option>
      ))}
    </select>
  );
}

/** Entitlements by owner, in the order their newest one appears. */
function groupByOwner(rows: EntitlementView[]): [string, EntitlementView[]][] {
  const groups = new Map<string, EntitlementView[]>();
  for (const e of rows) {
    const owner = e.email ?? `account ${e.user_id}`;
    groups.set(owner, [...(groups.get(owner) ?? []), e]);
  }
  return [...groups];
}
