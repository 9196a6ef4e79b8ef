import type { Child } from "hono/jsx";
import type { SellerLicense } from "../../core/licenses/sellerLicenses.ts";
import type { Product } from "../../db/schema.ts";
import { Field } from "../field.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { ActionButton, Badge, type Column, FormError, StackTable, shortTime } from "./ui.tsx";

const STATUS_TONES: Record<string, "ok" | "warn" | "bad" | "muted"> = {
  active: "ok",
  expired: "muted",
  refunded: "muted",
  disputed: "warn",
  revoked: "bad",
};

const SOURCES: Record<string, string> = {
  purchase: "purchase",
  subscription: "subscription",
  grant: "granted by you",
  free: "free claim",
};

/** A key's standing: its word as a badge, and why it does not work when it does not. */
export function LicenseStatus({ license }: { license: Pick<SellerLicense, "status" | "reason"> }) {
  return (
    <>
      <Badge tone={STATUS_TONES[license.status] ?? "muted"}>{license.status}</Badge>
      {license.status !== "active" && license.reason ? (
        <span class="muted"> {license.reason}</span>
      ) : null}
    </>
  );
}

/** "2 of 3", or "2 (no limit)". */
export function activationsText(l: Pick<SellerLicense, "activationCount" | "activationLimit">) {
  return l.activationLimit === null
    ? `${l.activationCount} (no limit)`
    : `${l.activationCount} of ${l.activationLimit}`;
}

const machines = (n: number) => `${n} machine${n === 1 ? "" : "s"}`;

const ownerOf = (l: SellerLicense) => l.owner.email ?? `account ${l.owner.userId ?? "?"}`;

const customerHref = (email: string) => `/admin/customers?email=${encodeURIComponent(email)}`;

/** Where a key came from: its order, or how access was given without one. */
function OrderLink({ license }: { license: SellerLicense }) {
  if (license.orderId)
    return (
      <a href={`/admin/orders/${license.orderId}`}>
        <code>{license.orderId}</code>
      </a>
    );
  return <span class="muted">{SOURCES[license.source] ?? license.source}</span>;
}

/** One row per key, for the Licences page and a customer's page. */
export function LicenseTable(props: {
  caption: string;
  licenses: SellerLicense[];
  empty: string;
  /** The owner column is left out where the table is about one customer. */
  showOwner?: boolean;
}) {
  const owner: Column<SellerLicense> = {
    label: "Owner",
    kind: "wrap",
    cell: (l) =>
      l.owner.email ? <a href={customerHref(l.owner.email)}>{ownerOf(l)}</a> : ownerOf(l),
  };
  return (
    <StackTable
      caption={props.caption}
      rows={props.licenses}
      columns={[
        {
          label: "Key",
          kind: "title",
          cell: (l) => (
            <a href={`/admin/licenses/${l.id}`} aria-label={`Licence ${l.key}`}>
              <code>{l.key}</code>
            </a>
          ),
        },
        ...(props.showOwner === false ? [] : [owner]),
        { label: "Product", cell: (l) => l.product.name },
        { label: "Order", cell: (l) => <OrderLink license={l} /> },
        {
          label: "Activations",
          cell: (l) => (
            <>
              {activationsText(l)}
              {l.ownLimit ? <span class="muted"> (own limit)</span> : null}
            </>
          ),
        },
        { label: "Status", kind: "wrap", cell: (l) => <LicenseStatus license={l} /> },
      ]}
      empty={props.empty}
    />
  );
}

export interface LicenseFilters {
  email: string;
  product: string;
}

export function LicensesPage(
  props: AdminPageProps & {
    filters: LicenseFilters;
    licenses: SellerLicense[];
    /** Products that issue keys or have issued some, for the product filter. */
    products: Product[];
    /** The list stopped at this many keys. */
    shown: number | null;
  },
) {
  const { filters } = props;
  const filtered = Boolean(filters.email || filters.product);
  const anyOn = props.products.some((p) => p.license_enabled === 1);
  return (
    <AdminLayout {...props} title="Licences" section="licenses">
      <h1>Licences</h1>
      <p class="muted">
        A product with licence keys on gives each purchase a key that your app activates, validates
        and checks offline. Here you see every key, the machines it is active on, and what stops it.
      </p>
      {anyOn ? null : (
        <p class="notice">
          No product issues licence keys yet. Turn them on in a product's{" "}
          <strong>Licence keys</strong> section (<a href="/admin/products">Products</a>).
        </p>
      )}
      <form method="get" action="/admin/licenses" class="card" aria-label="Find licences">
        <div class="row">
          <Field
            id="license-email"
            label="Customer email"
            input={{
              name: "email",
              type: "text",
              inputmode: "email",
              value: filters.email,
              placeholder: "buyer@example.com",
            }}
          />
          <Field id="license-product" label="Product">
            <select id="license-product" name="product">
              <option value="">Any product</option>
              {props.products.map((p) => (
                <option value={p.slug} selected={filters.product === p.slug}>
                  {p.name}
                  {p.license_enabled ? "" : " (keys off)"}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <div class="actions">
          <button type="submit">Find</button>
          {filtered ? <a href="/admin/licenses">All keys</a> : null}
        </div>
      </form>
      <h2 style="overflow-wrap:anywhere">
        {filters.email ? `Keys of ${filters.email}` : filtered ? "Matching keys" : "Newest keys"}
      </h2>
      <LicenseTable
        caption="Licence keys"
        licenses={props.licenses}
        empty={
          filtered
            ? "No keys match. Keys are found by the exact email the customer bought with or signed in with."
            : "No licence keys yet: a key is issued with each purchase of a product that has licence keys on."
        }
      />
      {props.shown ? (
        <p class="muted">
          The {props.shown} newest keys are shown. Find a customer by email to see theirs.
        </p>
      ) : null}
    </AdminLayout>
  );
}

export function LicensePage(
  props: AdminPageProps & {
    license: SellerLicense;
    /** The product's own activation limit, which applies unless the customer has one. */
    productLimit: number | null;
    /** The limit as typed, shown again with `limitError`. */
    limitValue: string;
    limitError?: string | null;
  },
) {
  const l = props.license;
  const owner = ownerOf(l);
  const productLimitText = props.productLimit === null ? "no limit" : machines(props.productLimit);
  return (
    <AdminLayout {...props} title={`Licence ${l.key}`} section="licenses">
      <p>
        <a href="/admin/licenses">← Licences</a>
      </p>
      <h1>
        Licence <code>{l.key}</code>
      </h1>
      <p>
        <LicenseStatus license={l} />
        {l.status === "active" ? (
          ` Works in your app, ${
            l.activationLimit === null
              ? `on ${machines(l.activationCount)} so far, with no limit`
              : `on ${l.activationCount} of ${machines(l.activationLimit)}`
          }.`
        ) : (
          <>
            <br />
            Your app refuses this key: activate, validate and new licence files all say why.
          </>
        )}
      </p>

      <section class="card" aria-labelledby="facts">
        <h2 id="facts" style="margin-top:0">
          Details
        </h2>
        <table class="facts">
          <tbody>
            <Fact name="Product">
              <a href={`/admin/products/${l.product.slug}`}>{l.product.name}</a>
            </Fact>
            <Fact name="Owner">
              {l.owner.email ? <a href={customerHref(l.owner.email)}>{owner}</a> : owner}
            </Fact>
            <Fact name="Order">
              <OrderLink license={l} />
              {l.orderId ? <span class="muted"> ({SOURCES[l.source] ?? l.source})</span> : null}
            </Fact>
            <Fact name="Issued">{shortTime(l.createdAt)}</Fact>
            <Fact name="Expires">
              {l.expiresAt ? <>{shortTime(l.expiresAt)} (with the access)</> : "never"}
            </Fact>
            <Fact name="Activation limit">
              {l.activationLimit === null ? "no limit" : machines(l.activationLimit)}{" "}
              <span class="muted">{l.ownLimit ? "(this customer's own)" : "(the product's)"}</span>
            </Fact>
            {l.revokedAt ? <Fact name="Revoked">{shortTime(l.revokedAt)}</Fact> : null}
          </tbody>
        </table>
      </section>

      <h2 id="machines">Activations ({activationsText(l)})</h2>
      <StackTable
        caption="Machines this key is active on"
        rows={l.activations}
        columns={[
          {
            label: "Machine",
            kind: "title",
            cell: (a) => a.label || <span class="muted">no label</span>,
          },
          { label: "Fingerprint", cell: (a) => <code>{a.fingerprint}</code> },
          { label: "First seen", cell: (a) => shortTime(a.firstSeenAt) },
          { label: "Last seen", cell: (a) => shortTime(a.lastSeenAt) },
          { label: "IP", cell: (a) => a.ip ?? <span class="muted">—</span> },
          {
            label: "Actions",
            kind: "buttons",
            cell: (a) => (
              <ActionButton
                action={`/admin/licenses/${l.id}/reset`}
                fields={{ activation: a.id }}
                label="Free"
                confirm={`Free ${a.label || a.fingerprint}? The app there stops working until it activates again.`}
              />
            ),
          },
        ]}
        empty="No machine has activated this key yet."
      />
      {l.activations.length > 1 ? (
        <div class="actions" style="margin:0 0 16px">
          <ActionButton
            action={`/admin/licenses/${l.id}/reset`}
            label="Free all"
            confirm={`Free all ${l.activations.length} machines? The app stops working on each until it activates again.`}
          />
          <span class="muted">
            A freed machine stops counting towards the limit; it takes a place again when the app
            there activates.
          </span>
        </div>
      ) : l.activations.length === 1 ? (
        <p class="muted">
          A freed machine stops counting towards the limit; it takes a place again when the app
          there activates.
        </p>
      ) : null}

      <form
        method="post"
        action={`/admin/licenses/${l.id}/limit`}
        class="card"
        aria-labelledby="limit"
      >
        <h2 id="limit" style="margin-top:0;overflow-wrap:anywhere">
          Activation limit for {owner}
        </h2>
        <p class="muted">
          Raise it for a customer who needs more machines, or lower it. Machines already active stay
          active; a lower limit only refuses new ones.
        </p>
        <FormError message={props.limitError} />
        <Field
          id="activationLimit"
          label="Machines"
          input={{
            name: "activationLimit",
            type: "number",
            min: 1,
            max: 100000,
            inputmode: "numeric",
            value: props.limitValue,
          }}
          hint={`Empty: the product's limit (${productLimitText}).`}
        />
        <button type="submit">Save limit</button>
      </form>

      {l.revokedAt ? (
        <p class="notice bad">
          <strong>Revoked{l.reason ? `: ${l.reason}` : ""}.</strong> The key no longer works in your
          app. The customer's downloads are not affected.
        </p>
      ) : (
        <form
          method="post"
          action={`/admin/licenses/${l.id}/revoke`}
          class="card"
          aria-labelledby="revoke"
        >
          <h2 id="revoke" style="margin-top:0">
            Revoke this key
          </h2>
          <p class="notice warn">
            Revoking stops the key for good, on every machine: activate and validate refuse it at
            once, and no new licence file is issued (files already issued work until they expire, at
            most 30 days). It cannot be undone. The customer keeps their downloads; to take those
            away too, revoke their access on the{" "}
            <a href={l.owner.email ? customerHref(l.owner.email) : "/admin/customers"}>
              customer's page
            </a>
            .
          </p>
          <Field
            id="revoke-reason"
            label="Reason (optional)"
            input={{
              name: "reason",
              type: "text",
              maxlength: 200,
              placeholder: "for example: shared publicly",
            }}
            hint="Shown to you here; the app is told the key was revoked."
          />
          <button
            type="submit"
            class="secondary"
            data-confirm={`Revoke ${l.key} for good? It stops working on all ${l.activationCount} machines at once.`}
          >
            Revoke key
          </button>
        </form>
      )}
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
