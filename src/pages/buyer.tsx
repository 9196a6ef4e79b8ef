import type { EndedPurchase, LibraryItem } from "../core/access/library.ts";
import { inFileOrder } from "../core/downloads/fileOrder.ts";
import type { BuyerLicense } from "../core/licenses/buyerLicenses.ts";
import { itemised } from "../core/orders/charges.ts";
import { orderReference } from "../core/orders/reference.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import type { Product } from "../db/schema.ts";
import { type Charges, paidSummary } from "./charges.ts";
import { Cover } from "./cover.tsx";
import { formatBytes, formatPrice } from "./format.ts";
import { formatTtl } from "./freshLink.tsx";
import { Layout } from "./layout.tsx";
import { LibraryReleaseBlock } from "./releases.tsx";
import { When } from "./shop.tsx";

/** What every buyer page's layout needs (pageProps). */
export interface BuyerPageProps {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  devOutbox?: boolean;
}
export function LibraryPage(
  props: BuyerPageProps & {
    items: LibraryItem[];
    /** Purchases that no longer give their files, with the reason. */
    ended?: EndedPurchase[];
    /** The buyer's licence keys (each shown with its product, or under "Other licence keys"). */
    licenses?: BuyerLicense[];
    /** An activation was just freed (?freed=1). */
    freed?: boolean;
    /** What a self-service action just did (a receipt or link mailed, a purchase moved here). */
    notice?: string | null;
    /** The seller's preview of one product as its owner sees it: where to go back to. */
    previewOf?: { editUrl: string };
  },
) {
  const licenses = props.licenses ?? [];
  const owned = new Set(props.items.map((item) => item.product.slug));
  const others = licenses.filter((l) => !owned.has(l.product.slug));
  return (
    <Layout
      title="Your library"
      shop={props.shop}
      signedIn={props.signedIn}
      scripts={licenses.length ? ["/assets/library.js"] : []}
    >
      {props.previewOf ? (
        <p class="notice warn" role="status">
          Preview: this is what a buyer who owns this product sees in their library.{" "}
          <a href={props.previewOf.editUrl}>Back to the product</a>
        </p>
      ) : null}
      <h1>Your library</h1>
      {props.notice ? (
        <p class="notice ok" role="status" id="library-notice">
          {props.notice}
        </p>
      ) : null}
      {props.freed ? (
        <p class="notice ok" role="status" id="licences">
          Machine deactivated: its activation is free for another machine.
        </p>
      ) : null}
      <p class="muted">
        Everything you own with {props.signedIn?.email}. Downloads use private links that expire in
        minutes.
      </p>
      {props.items.length === 0 ? (
        <div class="card">
          <p>
            {props.ended?.length
              ? "None of your purchases gives you files right now."
              : "You do not own any products yet."}
          </p>
          <p class="muted">
            Bought something with another email? Sign out and sign in with that email.{" "}
            <a href="/">Browse the store</a>.
          </p>
        </div>
      ) : (
        props.items.map((item) => (
          <section class="card" aria-labelledby={`p-${item.product.slug}`}>
            {item.product.coverImage ? (
              <Cover id={item.product.coverImage} alt="" class="cover library-cover" lazy />
            ) : null}
            <h2 id={`p-${item.product.slug}`} style="margin-top:0">
              {item.product.name}
            </h2>
            {item.order ? (
              <p class="muted">
                Ordered <When at={item.order.orderedAt} /> ·{" "}
                <PaidAmount
                  charges={item.order?.charges ?? null}
                  amount={item.order.amount}
                  currency={item.order.currency}
                  country={item.order?.country ?? null}
                />{" "}
                · order <code>{orderReference(item.order.id)}</code> ·{" "}
                <a href={`/library/orders/${encodeURIComponent(item.order.id)}`}>Order status</a>
              </p>
            ) : null}
            {item.entitlement.endsAt ? (
              <p class="muted">
                Access until <When at={item.entitlement.endsAt} />
              </p>
            ) : null}
            <PurchaseActions
              productName={item.product.name}
              receiptUrl={item.order?.receiptUrl}
              invoice={Boolean(item.order?.invoiceId)}
              downloadAllUrl={item.downloadAllUrl}
              files={item.files}
            />
            <FileList files={item.files} />
            <SelfService item={item} preview={Boolean(props.previewOf)} />
            {item.releases ? (
              <LibraryReleaseBlock slug={item.product.slug} releases={item.releases} />
            ) : null}
            {licenses
              .filter((l) => l.product.slug === item.product.slug)
              .map((l) => (
                <LicenseBlock license={l} heading="Licence key" />
              ))}
          </section>
        ))
      )}
      {props.ended?.length ? (
        <section aria-labelledby="ended">
          <h2 id="ended">Purchases that ended</h2>
          {props.ended.map((p) => (
            <div class="card">
              <h3 style="margin-top:0">{p.product.name}</h3>
              <p>
                <span class={`badge ${p.status === "expired" ? "warn" : "bad"}`}>
                  {ENDED_LABEL[p.status]}
                </span>{" "}
                {p.reason}
              </p>
              {p.releases?.last ? (
                <p class="muted">
                  The last release your access covered: {p.releases.last.version}
                  {p.releases.newer ? `; ${p.releases.newer} newer need access again.` : "."}
                </p>
              ) : null}
              <p class="muted">
                <a href={`/p/${p.product.slug}`}>See {p.product.name} in the store</a>
              </p>
            </div>
          ))}
        </section>
      ) : null}
      {others.length ? (
        <section aria-labelledby="other-licences">
          <h2 id="other-licences">Other licence keys</h2>
          <p class="muted">Keys of purchases that no longer give you the files.</p>
          {others.map((l) => (
            <div class="card">
              <LicenseBlock license={l} heading={`${l.product.name}: licence key`} />
            </div>
          ))}
        </section>
      ) : null}
    </Layout>
  );
}

/**
 * The buyer's own help: the receipt again, a fresh link by mail (both to their own address).
 * The seller's preview shows the same buttons, disabled: there is no buyer to mail.
 */
function SelfService({ item, preview }: { item: LibraryItem; preview: boolean }) {
  return (
    <div class="actions self-service">
      {item.order ? (
        <form
          method="post"
          action={`/library/orders/${encodeURIComponent(item.order.id)}/resend-receipt`}
        >
          <button type="submit" class="secondary small" disabled={preview}>
            Resend my receipt<span class="sr-only"> for {item.product.name}</span>
          </button>
        </form>
      ) : null}
      <form method="post" action={`/library/${encodeURIComponent(item.product.slug)}/fresh-link`}>
        <button type="submit" class="secondary small" disabled={preview}>
          Send me a fresh link<span class="sr-only"> for {item.product.name}</span>
        </button>
      </form>
    </div>
  );
}

const ENDED_LABEL: Record<EndedPurchase["status"], string> = {
  refunded: "Refunded",
  disputed: "Disputed",
  revoked: "Revoked",
  expired: "Ended",
};

const STATUS_LABEL: Record<BuyerLicense["status"], [string, "ok" | "warn" | "bad"]> = {
  active: ["Active", "ok"],
  expired: ["Expired", "warn"],
  refunded: ["Refunded", "bad"],
  disputed: ["Disputed", "bad"],
  revoked: ["Revoked", "bad"],
};

/**
 * One licence key: the key as text anyone can select (and a Copy button once the script is
 * there), its standing, and, while it works, the machines it is activated on, each with a
 * Deactivate button the buyer uses after a reinstall or on a machine they no longer have.
 */
function LicenseBlock({ license: l, heading }: { license: BuyerLicense; heading: string }) {
  const [label, tone] = STATUS_LABEL[l.status];
  const keyId = `key-${l.id}`;
  const active = l.status === "active";
  const used = l.activations.length;
  return (
    <div class="licence" id={`licence-${l.id}`}>
      <h3>
        {heading} <span class={`badge ${tone}`}>{label}</span>
      </h3>
      <div class="licence-key">
        <code id={keyId} class={active ? undefined : "ended"}>
          {l.key}
        </code>
        <button
          type="button"
          class="secondary small"
          data-copy-key={keyId}
          aria-label={`Copy the licence key for ${l.product.name}`}
          hidden
        >
          Copy
        </button>
      </div>
      {active ? (
        <>
          <p class="muted">
            {l.activationLimit === null
              ? `Activated on ${machines(used)} (no limit).`
              : `Activated on ${used} of ${machines(l.activationLimit)}.`}
            {l.expiresAt ? (
              <>
                {" "}
                Works until <When at={l.expiresAt} />.
              </>
            ) : null}
          </p>
          {used ? (
            <ul
              class="files activations"
              aria-label={`Machines using the key for ${l.product.name}`}
            >
              {l.activations.map((a) => (
                <li>
                  <span>
                    <span class="name">{a.label ?? a.fingerprint}</span>
                    <br />
                    {a.label ? (
                      <>
                        <span class="muted fingerprint">{a.fingerprint}</span>
                        <br />
                      </>
                    ) : null}
                    <span class="muted">
                      Activated <Time iso={a.firstSeenAt} /> · last seen <Time iso={a.lastSeenAt} />
                    </span>
                  </span>
                  <form
                    method="post"
                    action={`/library/licenses/${encodeURIComponent(l.id)}/activations/${encodeURIComponent(a.id)}/free`}
                  >
                    <button type="submit" class="secondary small">
                      Deactivate<span class="sr-only"> {a.label ?? a.fingerprint}</span>
                    </button>
                  </form>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">Not activated on any machine yet: enter the key in the app.</p>
          )}
        </>
      ) : (
        <p class="notice bad">
          {l.reason ?? "This licence key does not work."} Apps cannot activate or validate it now.
        </p>
      )}
    </div>
  );
}

const machines = (n: number) => `${n} machine${n === 1 ? "" : "s"}`;

function Time({ iso }: { iso: string | null }) {
  if (!iso) return <>never</>;
  return <When at={Date.parse(iso)} />;
}

/**
 * What the buyer paid: the total, with what was taken off and the tax in brackets when there
 * were any ("Total paid €22.91 (€11.60 off, VAT €5.51)"); else just the amount.
 */
export function PaidAmount(props: {
  charges: Charges | null;
  amount?: number;
  currency: string;
  country?: string | null;
}) {
  const { charges, currency } = props;
  if (charges && itemised(charges))
    return <span data-paid>{paidSummary(charges, currency, props.country ?? null)}</span>;
  return <>{formatPrice(charges?.total ?? props.amount ?? 0, currency)}</>;
}

/**
 * A purchase's two actions beside its files: every file in one zip, and the payment's receipt or
 * invoice (opened at the payment provider through our link, GET /library/orders/{id}/receipt).
 */
export function PurchaseActions(props: {
  productName: string;
  receiptUrl?: string | null | undefined;
  /** The provider made an invoice for the payment: the link opens it, and says so. */
  invoice?: boolean | undefined;
  downloadAllUrl?: string | null | undefined;
  files: { size: number }[];
}) {
  const total = props.files.reduce((sum, f) => sum + f.size, 0);
  const count = props.files.length;
  // One file is its own download: a zip of it would only add a step.
  const downloadAllUrl = count >= 2 ? props.downloadAllUrl : null;
  if (!props.receiptUrl && !downloadAllUrl) return null;
  return (
    <p class="actions">
      {downloadAllUrl ? (
        <a class="btn" href={downloadAllUrl} download>
          {/* One flex item, so the button's gap never splits its words. */}
          <span>
            Download all<span class="sr-only"> files of {props.productName}</span> ({count} files,{" "}
            {formatBytes(total)}, zip)
          </span>
        </a>
      ) : null}
      {props.receiptUrl ? (
        <a class="btn secondary" href={props.receiptUrl}>
          {props.invoice ? "Invoice" : "Receipt"}
          <span class="sr-only"> for {props.productName}</span>
        </a>
      ) : null}
    </p>
  );
}

const downloadsLeftText = (left: number) =>
  left === 0
    ? "no downloads left: ask the seller to reset them"
    : `${left} download${left === 1 ? "" : "s"} left`;

/** A product's files, always in the one file order (core/downloads/fileOrder.ts). */
export function FileList(props: {
  files: {
    filename: string;
    size: number;
    version?: number;
    /** Shown so a buyer can check the file they saved is the one the seller published. */
    sha256?: string;
    downloadUrl: string;
    lastDownloadedAt?: number | null;
    /** Under the product's download limit; null or absent: no limit. */
    downloadsLeft?: number | null;
  }[];
}) {
  if (props.files.length === 0)
    return <p class="muted">No files yet; the seller is preparing them.</p>;
  return (
    <ul class="files">
      {inFileOrder(props.files).map((f) => (
        <li>
          <span>
            <span class="name">{f.filename}</span>
            <br />
            <span class="muted">
              {formatBytes(f.size)}
              {f.version && f.version > 1 ? ` · version ${f.version}` : ""}
              {f.lastDownloadedAt ? (
                <>
                  {" "}
                  · last downloaded <When at={f.lastDownloadedAt} />
                </>
              ) : null}
              {f.downloadsLeft == null ? null : (
                <span class="downloads-left"> · {downloadsLeftText(f.downloadsLeft)}</span>
              )}
            </span>
            {f.sha256 ? (
              <details class="checksum">
                <summary class="muted">SHA-256</summary>
                <code>{f.sha256}</code>
              </details>
            ) : null}
          </span>
          <a class="btn" href={f.downloadUrl} aria-label={`Download ${f.filename}`}>
            Download
          </a>
        </li>
      ))}
    </ul>
  );
}

export function TokenPage(
  props: BuyerPageProps & {
    product: Product;
    files: { filename: string; size: number; downloadUrl: string }[];
    expiresAt: number;
    usesLeft: number | null;
    /** Seconds the link works from its first download, until that starts it (decision 0022). */
    worksAfterFirstUse?: number | null;
  },
) {
  return (
    <Layout title={props.product.name} shop={props.shop} signedIn={props.signedIn}>
      <section class="card">
        <h1>{props.product.name}</h1>
        <p class="muted">
          {props.worksAfterFirstUse ? (
            <>
              This private link works for {formatTtl(props.worksAfterFirstUse)} from your first
              download, and not after <When at={props.expiresAt} />
            </>
          ) : (
            <>
              This private link works until <When at={props.expiresAt} />
            </>
          )}
          {props.usesLeft === null
            ? ""
            : ` for ${props.usesLeft} more download${props.usesLeft === 1 ? "" : "s"}`}
          . Do not share it. You can always find your files in <a href="/library">your library</a>{" "}
          by signing in with your email.
        </p>
        <FileList files={props.files} />
      </section>
    </Layout>
  );
}

/**
 * The receipt link's answer when the payment provider has no receipt or invoice page for the
 * order (nothing was charged by card, say): what the order was, and where to go next.
 */
export function NoReceiptPage(
  props: BuyerPageProps & {
    order: { id: string; productName: string; amount: number; currency: string };
    back: { url: string; label: string };
  },
) {
  const { order } = props;
  return (
    <Layout title="No receipt for this payment" shop={props.shop} signedIn={props.signedIn}>
      <section class="card">
        <h1>No receipt for this payment</h1>
        <p>
          The payment provider has no receipt or invoice page for your order of{" "}
          <strong>{order.productName}</strong> ({formatPrice(order.amount, order.currency)}, order{" "}
          <code>{order.id}</code>). That happens when nothing was charged by card, for example for a
          fully discounted order.
        </p>
        <p>
          Your purchase is not affected: your files stay available. If you need a receipt or an
          invoice for your records, reply to your purchase email and quote the order reference
          above.
        </p>
        <p>
          <a class="btn" href={props.back.url}>
            {props.back.label}
          </a>
        </p>
      </section>
    </Layout>
  );
}
