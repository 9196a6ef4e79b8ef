import { onSale, pricingOf } from "../../core/catalog/pricing.ts";
import type { ReadinessCheck } from "../../core/catalog/publish.ts";
import { scanText } from "../../core/catalog/scan.ts";
import type { Asset, Product } from "../../db/schema.ts";
import { Cover } from "../cover.tsx";
import { Field } from "../field.tsx";
import { formatBytes, formatPrice } from "../format.ts";
import { renderMarkdown } from "../markdown.ts";
import { When } from "../shop.tsx";
import { DownloadLimitSettings } from "./downloadLimits.tsx";
import { type GraceFormValues, GraceSettings } from "./graceSettings.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { StampSettings } from "./stampSettings.tsx";
import { ActionButton, Badge, FormError, StackTable } from "./ui.tsx";

const KINDS = { one_time: "One-time purchase", subscription: "Subscription", free: "Free" };
const INTERVALS = ["month", "year", "week", "day"];
/** The currencies sellers use most; Stripe takes many more, and any typed before stays listed. */
const CURRENCIES = [
  "usd",
  "eur",
  "gbp",
  "cad",
  "aud",
  "nzd",
  "chf",
  "sek",
  "nok",
  "dkk",
  "pln",
  "jpy",
  "inr",
  "brl",
  "mxn",
  "sgd",
];
const currencyChoices = (current: string) => {
  const code = current.trim().toLowerCase();
  return code && !CURRENCIES.includes(code) ? [code, ...CURRENCIES] : CURRENCIES;
};

export function ProductsPage(
  props: AdminPageProps & { products: { product: Product; files: number }[] },
) {
  return (
    <AdminLayout {...props} title="Products" section="products">
      <div class="actions" style="justify-content:space-between">
        <h1>Products</h1>
        <a class="btn" href="/admin/products/new">
          New product
        </a>
      </div>
      <StackTable
        caption="Products"
        rows={props.products}
        empty="No products yet. Create one, then upload its files."
        columns={[
          {
            label: "Product",
            kind: "title",
            cell: ({ product: p }) => (
              <>
                <a href={`/admin/products/${p.slug}`}>{p.name}</a>
                <br />
                <span class="muted">/p/{p.slug}</span>
              </>
            ),
          },
          { label: "Price", cell: ({ product: p }) => priceText(p) },
          { label: "Kind", cell: ({ product: p }) => KINDS[p.kind] },
          { label: "Files", cell: ({ files }) => String(files) },
          { label: "Status", cell: ({ product: p }) => <PublishedBadge product={p} /> },
        ]}
      />
    </AdminLayout>
  );
}

/** What the product form holds: as typed, so a rejected form comes back unchanged. */
export interface ProductFormValues {
  slug: string;
  name: string;
  description: string;
  kind: string;
  price: string;
  currency: string;
  interval: string;
  stripePriceId: string;
  published: boolean;
  /** Pay what you want (decision 0029): on, and its amounts as typed in major units. */
  pwyw: boolean;
  pwywMinimum: string;
  pwywSuggested: string;
  /** The usual price shown crossed out during a sale, in major units; empty: no sale. */
  listPrice: string;
  /** Stripe's tax code (txcd_...); empty: the Stripe account's default. */
  taxCode: string;
}

export function NewProductPage(
  props: AdminPageProps & { values: ProductFormValues; error?: string | null },
) {
  return (
    <AdminLayout {...props} title="New product" section="products">
      <p>
        <a href="/admin/products">← Products</a>
      </p>
      <h1>New product</h1>
      <form method="post" action="/admin/products" class="card" data-new-product>
        <FormError message={props.error} />
        <ProductFields values={props.values} isNew />
        <button type="submit">Create product</button>
      </form>
    </AdminLayout>
  );
}

/** The licence settings form as typed: an empty limit is no limit. */
export interface LicenseFormValues {
  enabled: boolean;
  activationLimit: string;
  expires: "with-access" | "never";
}

export function EditProductPage(
  props: AdminPageProps & {
    product: Product;
    assets: Asset[];
    values: ProductFormValues;
    error?: string | null;
    license: LicenseFormValues;
    licenseError?: string | null;
    grace: GraceFormValues;
    graceError?: string | null;
    /** The shop's REFUND_REVOKES_ACCESS, for a product that leaves refunds to it. */
    shopRefundRevokes: boolean;
    maxUploadBytes: number;
    /** What the product needs to be deliverable, each checked. */
    readiness: ReadinessCheck[];
    /** Why publishing was just refused. */
    publishError?: string | null;
    /** Why the cover image just sent was refused. */
    coverError?: string | null;
    /** Set when the seller asked to preview the description as typed (nothing saved yet). */
    preview?: boolean;
  },
) {
  const p = props.product;
  const ready = props.readiness.every((check) => check.ok);
  return (
    <AdminLayout {...props} title={p.name} section="products">
      <p>
        <a href="/admin/products">← Products</a>
      </p>
      <div class="actions" style="justify-content:space-between">
        <h1>
          {p.name} <PublishedBadge product={p} />
        </h1>
        <div class="actions">
          <a class="btn secondary small" href={`/admin/products/${p.slug}/preview`}>
            Preview as a buyer
          </a>
          <a class="btn secondary small" href={`/admin/products/${p.slug}/releases`}>
            Releases
          </a>
          {p.active && ready ? (
            <a class="btn secondary small" href={`/p/${p.slug}`}>
              View in store
            </a>
          ) : null}
          <ActionButton
            action={`/admin/products/${p.slug}/publish`}
            fields={{ published: p.active ? "false" : "true" }}
            label={p.active ? "Unpublish" : "Publish"}
            {...(p.active
              ? { confirm: "Unpublish? Buyers can no longer buy it; owners keep their files." }
              : {})}
          />
        </div>
      </div>

      <PricingSummary product={p} />
      {props.publishError ? <FormError message={props.publishError} /> : null}
      {p.active && ready ? null : <Readiness checks={props.readiness} published={p.active === 1} />}

      <section class="card" aria-labelledby="files">
        <h2 id="files" style="margin-top:0">
          Files
        </h2>
        <FileTable slug={p.slug} assets={props.assets} />
        <UploadForm slug={p.slug} assets={props.assets} maxUploadBytes={props.maxUploadBytes} />
      </section>

      <CoverSettings product={p} error={props.coverError ?? null} />

      <section class="card" aria-labelledby="details">
        <h2 id="details" style="margin-top:0">
          Details
        </h2>
        <form method="post" action={`/admin/products/${p.slug}`}>
          <FormError message={props.error} />
          <ProductFields values={props.values} isNew={false} />
          {props.preview ? <DescriptionPreview markdown={props.values.description} /> : null}
          <div class="actions">
            <button type="submit">Save changes</button>
            <button type="submit" name="intent" value="preview" class="secondary">
              Preview description
            </button>
          </div>
        </form>
      </section>

      <LicenseSettings product={p} values={props.license} error={props.licenseError} />
      <DownloadLimitSettings product={p} />
      <StampSettings product={p} />
      <GraceSettings
        product={p}
        values={props.grace}
        error={props.graceError}
        shopRefundRevokes={props.shopRefundRevokes}
      />
    </AdminLayout>
  );
}

/** The description as buyers will see it, rendered from what was typed; nothing saved yet. */
function DescriptionPreview({ markdown }: { markdown: string }) {
  return (
    <section class="preview" aria-labelledby="description-preview">
      <h3 id="description-preview" style="margin-top:0">
        Preview: the description as buyers will see it
      </h3>
      {markdown.trim() ? (
        <div class="prose" dangerouslySetInnerHTML={{ __html: renderMarkdown(markdown) }} />
      ) : (
        <p class="muted">No description yet.</p>
      )}
      <p class="muted" style="margin:12px 0 0">
        Not saved yet: Save changes keeps it.
      </p>
    </section>
  );
}

/**
 * The cover image: shown on the store's card, the product page and the buyer's library. Sent as
 * a form (no script needed); the app checks the bytes are a PNG, JPEG, WebP or GIF.
 */
function CoverSettings({ product, error }: { product: Product; error: string | null }) {
  return (
    <section class="card" aria-labelledby="cover">
      <h2 id="cover" style="margin-top:0">
        Cover image
      </h2>
      {error ? (
        <p class="notice bad" role="alert">
          {error}
        </p>
      ) : null}
      <div class="cover-field">
        {product.cover_image ? (
          <Cover id={product.cover_image} alt={`Current cover of ${product.name}`} class="cover" />
        ) : (
          <p class="muted">No cover yet: the store shows the product without a picture.</p>
        )}
        <div>
          <form
            method="post"
            action={`/admin/products/${product.slug}/cover`}
            enctype="multipart/form-data"
          >
            <Field
              id="cover-file"
              label={product.cover_image ? "New cover image" : "Cover image"}
              input={{
                type: "file",
                name: "cover",
                accept: "image/png,image/jpeg,image/webp,image/gif",
                required: true,
              }}
              hint="PNG, JPEG, WebP or GIF, up to 2 MB. Shown at 16:9 (for example 1600 × 900 pixels); other shapes are cropped to fit."
            />
            <button type="submit">Save cover</button>
          </form>
          {product.cover_image ? (
            <div style="margin-top:12px">
              <ActionButton
                action={`/admin/products/${product.slug}/cover/remove`}
                label="Remove cover"
                confirm="Remove the cover image? The product is shown without a picture."
              />
            </div>
          ) : null}
        </div>
      </div>
    </section>
  );
}

/**
 * What stands between the product and the store, each thing with its fix: shown on a draft, and
 * on a published product that cannot be delivered (its last file retired).
 */
function Readiness({ checks, published }: { checks: ReadinessCheck[]; published: boolean }) {
  const missing = checks.filter((check) => !check.ok).length;
  return (
    <section class="card" aria-labelledby="readiness">
      <h2 id="readiness" style="margin-top:0">
        {published ? "Published, but not on sale" : "Ready to sell?"}
      </h2>
      <p class="muted">
        {missing
          ? published
            ? "Buyers cannot see or buy it until this is done:"
            : "Publishing needs these first:"
          : "Everything is in place: publish it to put it in the store."}
      </p>
      <ul style="list-style:none;padding:0;margin:0">
        {checks.map((check) => (
          <li style="margin:6px 0">
            <span aria-hidden="true" class={`badge ${check.ok ? "ok" : "bad"}`}>
              {check.ok ? "✓" : "✗"}
            </span>{" "}
            {check.label}
            {check.ok ? <span class="sr-only"> (done)</span> : <> — {check.fix}</>}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Whether buyers get licence keys, on how many machines, and whether keys end with access. */
function LicenseSettings({
  product,
  values,
  error,
}: {
  product: Product;
  values: LicenseFormValues;
  error: string | null | undefined;
}) {
  const on = product.license_enabled === 1;
  return (
    <section class="card" aria-labelledby="license-keys">
      <div class="actions" style="justify-content:space-between">
        <h2 id="license-keys" style="margin:0">
          Licence keys {on ? <Badge tone="ok">on</Badge> : <Badge tone="muted">off</Badge>}
        </h2>
        {on ? (
          <a href={`/admin/licenses?product=${encodeURIComponent(product.slug)}`}>
            See this product's keys
          </a>
        ) : null}
      </div>
      <p class="muted" style="margin-top:10px">
        With keys on, every purchase (and every access you give) comes with a licence key, shown in
        the receipt and the buyer's library. Your app activates the key on a machine, checks it, or
        fetches a signed licence file to check it offline (Tollgate's docs/licensing.md shows how).
      </p>
      <form method="post" action={`/admin/products/${product.slug}/license`}>
        <FormError message={error} />
        <div class="field">
          <label>
            <input type="checkbox" name="enabled" value="true" checked={values.enabled} /> Give each
            buyer a licence key
          </label>
          <p class="muted" style="margin:0">
            Turning keys on also gives one to everyone who owns the product now. Turning them off
            issues no new keys; keys already issued keep working.
          </p>
        </div>
        <Field
          id="license-limit"
          label="Activation limit"
          input={{
            name: "activationLimit",
            type: "number",
            inputmode: "numeric",
            min: 1,
            max: 100000,
            value: values.activationLimit,
            placeholder: "no limit",
          }}
          hint="How many machines one key may be active on at once. Empty: no limit. You can raise or lower it for one customer on their key's page."
        />
        <Field
          id="license-expires"
          label="Keys expire"
          hint="With access: a subscription's key stops when the subscription ends. Never: it keeps working after. Either way, a refund, a dispute or access you revoke stops the key at once."
        >
          <select id="license-expires" name="expires" aria-describedby="license-expires-help">
            <option value="with-access" selected={values.expires === "with-access"}>
              With the buyer's access
            </option>
            <option value="never" selected={values.expires === "never"}>
              Never
            </option>
          </select>
        </Field>
        <button type="submit">Save licence settings</button>
      </form>
    </section>
  );
}

function FileTable({ slug, assets }: { slug: string; assets: Asset[] }) {
  return (
    <StackTable
      caption="Files"
      rows={assets}
      empty="No files yet: buyers of this product get nothing until you upload one."
      columns={[
        {
          label: "File",
          kind: "title",
          cell: (a) => (
            <>
              <strong>{a.filename}</strong>
              <br />
              <span class="muted" title={a.sha256}>
                sha256 {a.sha256.slice(0, 12)}…
              </span>
            </>
          ),
        },
        { label: "Version", cell: (a) => `v${a.version}` },
        { label: "Size", cell: (a) => formatBytes(a.size) },
        { label: "Uploaded", cell: (a) => <When at={a.created_at} /> },
        {
          label: "Status",
          cell: (a) => (
            <>
              {a.scan_status === "infected" ? (
                <Badge tone="bad">quarantined: malware</Badge>
              ) : a.scan_status === "failed" ? (
                <Badge tone="warn">quarantined: scan failed</Badge>
              ) : a.active ? (
                <Badge tone="ok">delivered</Badge>
              ) : (
                <Badge tone="muted">retired</Badge>
              )}
              {scanText(a) ? (
                <>
                  <br />
                  <span class="muted" data-scan={a.scan_status}>
                    {scanText(a)}
                  </span>
                </>
              ) : null}
            </>
          ),
        },
        {
          label: "Actions",
          kind: "buttons",
          cell: (a) =>
            a.scan_status === "infected" ? null : a.scan_status === "failed" ? (
              <ActionButton
                action={`/admin/products/${slug}/files/${a.id}`}
                fields={{ active: "true" }}
                label="Scan again"
              />
            ) : (
              <ActionButton
                action={`/admin/products/${slug}/files/${a.id}`}
                fields={{ active: a.active ? "false" : "true" }}
                label={a.active ? "Retire" : "Restore"}
                {...(a.active
                  ? { confirm: `Retire ${a.filename}? Buyers will no longer see or download it.` }
                  : {})}
              />
            ),
        },
      ]}
    />
  );
}

/**
 * The uploads go from the browser to storage (presigned PUT or parts on S3/R2, or through the
 * app with a local folder); /assets/admin.js drives them: several files at once, chosen or
 * dropped, each with its progress and a Cancel button. `data-assets` lists the files the product
 * has, so the script can tell an upload that changed nothing (the same bytes again: the current
 * version is kept) from a new version.
 */
function UploadForm({
  slug,
  assets,
  maxUploadBytes,
}: {
  slug: string;
  assets: Asset[];
  maxUploadBytes: number;
}) {
  return (
    <form
      id="upload"
      data-product={slug}
      data-max-bytes={String(maxUploadBytes)}
      data-assets={JSON.stringify(assets.map((a) => a.id))}
    >
      <h3>Upload files</h3>
      <p class="muted">
        A file with the same name as one above becomes its new version: buyers get the new one and
        the old one is retired. The same bytes again change nothing. Up to{" "}
        {formatBytes(maxUploadBytes)} each.
      </p>
      <div class="dropzone" data-dropzone>
        <Field
          id="upload-file"
          label="File"
          input={{ type: "file", name: "file", required: true, multiple: true }}
          hint="Choose one or several files, or drop them here."
        />
        <button type="submit">Upload</button>
      </div>
      <div id="upload-status" class="upload-status" hidden>
        <progress id="upload-progress" max={100} value={0} aria-label="Upload progress" />
        <p id="upload-text" aria-live="polite" />
        <ul id="upload-list" class="uploads" aria-label="Uploads" />
      </div>
      <noscript>
        <p class="notice warn">
          Uploading from this page needs JavaScript. Without it, use the command line:{" "}
          <code>npx tollgate asset add {slug} ./file.zip</code>
        </p>
      </noscript>
    </form>
  );
}

function ProductFields({ values, isNew }: { values: ProductFormValues; isNew: boolean }) {
  return (
    <>
      {isNew ? (
        <>
          <Field id="name" label="Name" input={nameInput(values)} />
          <Field
            id="slug"
            label="Address"
            input={{
              name: "slug",
              type: "text",
              required: true,
              pattern: "[a-z0-9][a-z0-9\\-]*",
              maxlength: 64,
              value: values.slug,
            }}
            hint={
              <>
                Lowercase letters, digits and dashes: the product page will be /p/
                {values.slug || "your-product"}. It cannot change later.
              </>
            }
          />
          <Field id="kind" label="Kind">
            <select id="kind" name="kind">
              {Object.entries(KINDS).map(([value, label]) => (
                <option value={value} selected={values.kind === value}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
        </>
      ) : (
        <Field id="name" label="Name" input={nameInput(values)}>
          <p class="muted">
            {KINDS[values.kind as keyof typeof KINDS]} at /p/{values.slug}
          </p>
        </Field>
      )}
      <Field
        id="description"
        label="Description"
        hint={
          <>
            Markdown works: **bold**, _italic_, lists with "- ", # headings and
            [links](https://example.com). HTML is shown as typed, not run.
          </>
        }
      >
        <textarea
          id="description"
          name="description"
          rows={6}
          maxlength={10000}
          aria-describedby="description-help"
        >
          {values.description}
        </textarea>
      </Field>
      {values.kind === "free" && !isNew ? null : (
        <div class="row">
          <Field
            id="price"
            label="Price"
            input={{ name: "price", type: "text", inputmode: "decimal", value: values.price }}
            hint="For example 19.00. Leave empty for a free product."
          />
          {isNew ? (
            <Field id="currency" label="Currency">
              <select id="currency" name="currency">
                {currencyChoices(values.currency).map((code) => (
                  <option value={code} selected={values.currency.toLowerCase() === code}>
                    {code.toUpperCase()}
                  </option>
                ))}
              </select>
            </Field>
          ) : (
            <Field
              id="currency"
              label="Currency"
              input={{ name: "currency", type: "text", value: values.currency, readonly: true }}
              hint="A product's currency is set when it is created."
            />
          )}
          {isNew || values.kind === "subscription" ? (
            <div data-billing>
              <Field id="interval" label="Billed every">
                <select id="interval" name="interval">
                  {INTERVALS.map((i) => (
                    <option value={i} selected={values.interval === i}>
                      {i}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
          ) : null}
        </div>
      )}
      {values.kind === "free" && !isNew ? null : <PricingFields values={values} isNew={isNew} />}
      <details class="field">
        <summary>Stripe price (optional)</summary>
        <label for="stripePriceId">Stripe price id</label>
        <input
          id="stripePriceId"
          name="stripePriceId"
          type="text"
          placeholder="price_..."
          value={values.stripePriceId}
        />
        <p class="muted">
          Set it to sell a price you manage in Stripe; otherwise Checkout uses the price above.
        </p>
      </details>
    </>
  );
}

const nameInput = (values: ProductFormValues) =>
  ({
    name: "name",
    type: "text",
    required: true,
    maxlength: 200,
    value: values.name,
  }) as const;

function PublishedBadge({ product }: { product: Product }) {
  return product.active ? <Badge tone="ok">published</Badge> : <Badge tone="muted">draft</Badge>;
}

function priceText(p: Product): string {
  if (p.kind === "free") return "Free";
  const { payWhatYouWant } = pricingOf(p);
  if (payWhatYouWant)
    return `Pay what you want, from ${formatPrice(payWhatYouWant.minimum, p.currency)}`;
  const price = formatPrice(p.price_amount, p.currency);
  const sale = onSale(p) ? ` (was ${formatPrice(p.list_price as number, p.currency)})` : "";
  return p.kind === "subscription" ? `${price} / ${p.interval}${sale}` : `${price}${sale}`;
}

/**
 * The product's price as buyers meet it, under its name: pay what you want, a sale, and the tax
 * code Stripe Tax uses (decision 0029).
 */
function PricingSummary({ product: p }: { product: Product }) {
  if (p.kind === "free") return null;
  const { payWhatYouWant, listPrice, taxCode } = pricingOf(p);
  const money = (amount: number) => formatPrice(amount, p.currency);
  return (
    <p class="muted" id="pricing-summary">
      {KINDS[p.kind]} ·{" "}
      {payWhatYouWant ? (
        <>
          Pay what you want from {money(payWhatYouWant.minimum)}, suggested{" "}
          {money(payWhatYouWant.suggested)}
        </>
      ) : (
        priceText(p)
      )}
      {onSale(p) && listPrice !== null ? (
        <>
          {" "}
          · <Badge tone="ok">on sale</Badge> list price {money(listPrice)}
        </>
      ) : null}{" "}
      ·{" "}
      {taxCode ? (
        <>
          tax code <code>{taxCode}</code>
        </>
      ) : (
        "no tax code (Stripe's default)"
      )}
    </p>
  );
}

/**
 * Pay what you want, a list price for a sale, and the tax code, typed in major units like the
 * price; empty amounts mean none.
 */
function PricingFields({ values, isNew }: { values: ProductFormValues; isNew: boolean }) {
  const oneTime = isNew || values.kind === "one_time";
  return (
    <>
      {oneTime ? (
        <fieldset class="field">
          <legend>Pay what you want</legend>
          <label>
            <input
              type="checkbox"
              name="pwyw"
              value="on"
              checked={values.pwyw}
              aria-describedby="pwyw-help"
            />{" "}
            Let buyers choose what they pay
          </label>
          <p id="pwyw-help" class="muted">
            One-time purchases only. Checkout asks the buyer for an amount, starting at the
            suggested one; they cannot pay less than the minimum. The price above is what the store
            lists while this is off.
          </p>
          <div class="row">
            <Field
              id="pwyw-minimum"
              label="Minimum"
              input={{
                name: "pwywMinimum",
                type: "text",
                inputmode: "decimal",
                value: values.pwywMinimum,
                placeholder: "5.00",
              }}
              hint="The least a buyer may pay."
            />
            <Field
              id="pwyw-suggested"
              label="Suggested"
              input={{
                name: "pwywSuggested",
                type: "text",
                inputmode: "decimal",
                value: values.pwywSuggested,
                placeholder: "optional",
              }}
              hint="Offered first. Empty: the minimum."
            />
          </div>
        </fieldset>
      ) : null}
      <div class="row">
        <Field
          id="list-price"
          label="List price"
          input={{
            name: "listPrice",
            type: "text",
            inputmode: "decimal",
            value: values.listPrice,
            placeholder: "no sale",
          }}
          hint="For a sale: the usual price, shown crossed out before the price. Empty: no sale."
        />
        <Field
          id="tax-code"
          label="Tax code"
          input={{
            name: "taxCode",
            type: "text",
            value: values.taxCode,
            placeholder: "txcd_10000000",
            pattern: "\\s*txcd_\\d{8}\\s*",
            maxlength: 40,
            autocomplete: "off",
          }}
          hint="Stripe Tax's code for what you sell, such as txcd_10000000 (electronically supplied services). Empty: your Stripe account's default."
        />
      </div>
    </>
  );
}
