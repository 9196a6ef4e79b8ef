import type { TokenRow, TokenStatus } from "../../core/delivery/tokenAdmin.ts";
import { durationText } from "../../core/duration.ts";
import type { Asset, Product } from "../../db/schema.ts";
import { Field } from "../field.tsx";

import { When } from "../shop.tsx";
import { ProductSelect } from "./customers.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { ActionButton, Badge, FormError, StackTable } from "./ui.tsx";

export interface TokenFormValues {
  email: string;
  product: string;
  file: string;
  expiresIn: string;
  maxUses: string;
}

export interface CreatedLink {
  url: string;
  email: string;
  productName: string;
  filename: string | null;
  expiresAt: number;
  maxUses: number | null;
}

const STATUS: Record<TokenStatus, { label: string; tone: "ok" | "warn" | "bad" | "muted" }> = {
  active: { label: "active", tone: "ok" },
  expired: { label: "expired", tone: "muted" },
  used_up: { label: "used up", tone: "warn" },
  revoked: { label: "revoked", tone: "bad" },
  access_refunded: { label: "refunded", tone: "bad" },
  access_disputed: { label: "disputed", tone: "bad" },
  access_revoked: { label: "access revoked", tone: "bad" },
  access_expired: { label: "access ended", tone: "muted" },
};

export function TokensPage(
  props: AdminPageProps & {
    products: { product: Product; files: Asset[] }[];
    tokens: TokenRow[];
    values: TokenFormValues;
    /** What the maximum of uses is when the field is left empty. */
    defaultMaxUses: number | null;
    email: string;
    created?: CreatedLink | null;
    error?: string | null;
  },
) {
  const { values } = props;
  return (
    <AdminLayout {...props} title="Download links" section="tokens">
      <h1>Download links</h1>
      <p class="muted">
        A link downloads a product's files without signing in, for someone who owns it. Send it by
        hand, for example when a buyer lost the receipt.
      </p>
      {props.created ? <Created link={props.created} /> : null}

      <form method="post" action="/admin/tokens" class="card" aria-labelledby="new-link">
        <h2 id="new-link" style="margin-top:0">
          Create a link
        </h2>
        <FormError message={props.error} />
        <div class="row">
          <Field
            id="link-email"
            label="For (email)"
            input={{
              name: "email",
              type: "email",
              required: true,
              maxlength: 254,
              value: values.email,
            }}
            hint="They must own the product."
          />
          <Field id="link-product" label="Product">
            <ProductSelect
              id="link-product"
              products={props.products.map((p) => p.product)}
              value={values.product}
            />
          </Field>
          <Field id="link-file" label="File">
            <select id="link-file" name="file">
              <option value="">All of the product's files</option>
              {props.products
                .filter((p) => p.files.length)
                .map(({ product, files }) => (
                  <optgroup label={product.name} data-product={product.slug}>
                    {files.map((a) => (
                      <option value={a.id} selected={values.file === a.id}>
                        {a.filename} (v{a.version})
                      </option>
                    ))}
                  </optgroup>
                ))}
            </select>
          </Field>
        </div>
        <div class="row">
          <Field
            id="link-expires"
            label="Expires after"
            input={{
              name: "expiresIn",
              type: "text",
              required: true,
              maxlength: 12,
              value: values.expiresIn,
            }}
            hint="Like 90m, 24h or 7d (at most a year)."
          />
          <Field
            id="link-uses"
            label="Maximum downloads"
            input={{
              name: "maxUses",
              type: "number",
              min: 1,
              max: 1000000,
              value: values.maxUses,
            }}
            hint={
              <>
                Empty:{" "}
                {props.defaultMaxUses === null
                  ? "no limit (the shop's default)"
                  : `${props.defaultMaxUses} (the shop's default)`}
                .
              </>
            }
          />
        </div>
        <button type="submit">Create link</button>
      </form>

      <h2>Recent links</h2>
      <form method="get" action="/admin/tokens" class="actions">
        <label for="filter-email" class="sr-only">
          Show the links for this email
        </label>
        <input
          id="filter-email"
          name="email"
          type="text"
          inputmode="email"
          placeholder="Email"
          value={props.email}
        />
        <button type="submit" class="secondary small">
          Show links
        </button>
        {props.email ? <a href="/admin/tokens">All links</a> : null}
      </form>
      <StackTable
        caption="Recent download links"
        rows={props.tokens}
        columns={[
          { label: "Created", cell: (t) => <When at={t.createdAt} /> },
          {
            label: "Product",
            kind: "title",
            cell: (t) => (
              <>
                {t.productName}
                {t.filename ? <span class="muted"> ({t.filename} only)</span> : null}
              </>
            ),
          },
          { label: "For", kind: "wrap", cell: (t) => t.owner ?? "—" },
          { label: "Expires", cell: (t) => <LinkExpiry link={t} /> },
          {
            label: "Downloads",
            cell: (t) =>
              t.maxUses === null ? `${t.uses} (no limit)` : `${t.uses} of ${t.maxUses}`,
          },
          {
            label: "Status",
            cell: (t) => <Badge tone={STATUS[t.status].tone}>{STATUS[t.status].label}</Badge>,
          },
          {
            label: "Actions",
            kind: "buttons",
            cell: (t) =>
              t.status === "active" ? (
                <ActionButton
                  action={`/admin/tokens/${t.id}/revoke`}
                  fields={props.email ? { email: props.email } : {}}
                  label="Revoke"
                  confirm={`Revoke this link for ${t.owner ?? "its owner"}? It stops working at once; their library is not affected.`}
                />
              ) : null,
          },
        ]}
        empty={props.email ? "No links for this email." : "No download links yet."}
      />
    </AdminLayout>
  );
}

function Created({ link }: { link: CreatedLink }) {
  return (
    <section class="notice ok" aria-labelledby="created" role="status">
      <h2 id="created" style="margin-top:0">
        Link created
      </h2>
      <p>
        For {link.email}: {link.productName}
        {link.filename ? ` (${link.filename} only)` : ""}. It works until{" "}
        <When at={link.expiresAt} />
        {link.maxUses ? ` or for ${link.maxUses} downloads` : ""}.
      </p>
      <Field id="created-url" label="Download link">
        <div class="actions">
          <input id="created-url" type="text" readonly value={link.url} class="copy" />
          <button type="button" class="secondary small" data-copy="created-url">
            Copy link
          </button>
        </div>
      </Field>
      <p class="muted" style="margin:0">
        Copy it now: it is shown only this once, and the shop keeps only a fingerprint of it.
      </p>
    </section>
  );
}

/**
 * When a link stops working. One that starts at first use says its window until it is used, with
 * the absolute end that still applies; once used, the end its first use set.
 */
function LinkExpiry({ link }: { link: TokenRow }) {
  if (link.afterFirstUse === null) return <When at={link.expiresAt} />;
  if (link.firstUsedAt === null)
    return (
      <>
        {durationText(link.afterFirstUse)} after first use{" "}
        <span class="muted">
          (not used yet; by <When at={link.expiresAt} /> at the latest)
        </span>
      </>
    );
  return (
    <>
      <When at={link.expiresAt} />{" "}
      <span class="muted">
        (first used <When at={link.firstUsedAt} />)
      </span>
    </>
  );
}
