import type { LibraryItem } from "../core/access/library.ts";
import type { Asset, Product } from "../db/schema.ts";
import { formatBytes, formatDate, formatPrice } from "./format.ts";
import { Layout } from "./layout.tsx";

interface Common {
  shopName: string;
  signedIn: { email: string; admin: boolean } | null;
}

export function priceLabel(p: Product): string {
  if (p.kind === "free") return "Free";
  const price = formatPrice(p.price_amount, p.currency);
  return p.kind === "subscription" ? `${price} / ${p.interval ?? "month"}` : price;
}

export function StorefrontPage(props: Common & { products: Product[] }) {
  return (
    <Layout title={props.shopName} shopName={props.shopName} signedIn={props.signedIn}>
      <h1>{props.shopName}</h1>
      {props.products.length === 0 ? (
        <p class="muted">Nothing for sale yet. Check back soon.</p>
      ) : (
        <div class="grid">
          {props.products.map((p) => (
            <article class="card">
              <h2 style="margin-top:0">
                <a href={`/p/${p.slug}`}>{p.name}</a>
              </h2>
              <p class="muted">{p.description.slice(0, 160)}</p>
              <p class="price">{priceLabel(p)}</p>
            </article>
          ))}
        </div>
      )}
    </Layout>
  );
}

export function ProductPage(
  props: Common & { product: Product; assets: Asset[]; owned: boolean; cancelled?: boolean },
) {
  const p = props.product;
  return (
    <Layout title={p.name} shopName={props.shopName} signedIn={props.signedIn}>
      {props.cancelled ? (
        <p class="notice warn" role="status">
          Checkout cancelled: nothing was charged. You can buy whenever you are ready.
        </p>
      ) : null}
      <article class="card">
        <h1>{p.name}</h1>
        <p class="price">{priceLabel(p)}</p>
        {p.description ? <p style="white-space:pre-line">{p.description}</p> : null}
        <h2>What you get</h2>
        {props.assets.length ? (
          <ul class="files">
            {props.assets.map((a) => (
              <li>
                <span class="name">{a.filename}</span>
                <span class="muted">{formatBytes(a.size)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">Files are being prepared.</p>
        )}
        <div style="margin-top:20px">
          {props.owned ? (
            <a class="btn" href="/library">
              You own this: go to your library
            </a>
          ) : (
            <form method="post" action={`/checkout/${p.slug}`}>
              <button type="submit">{p.kind === "free" ? "Get it free" : "Buy now"}</button>
            </form>
          )}
        </div>
      </article>
    </Layout>
  );
}

export function LibraryPage(props: Common & { items: LibraryItem[] }) {
  return (
    <Layout title="Your library" shopName={props.shopName} signedIn={props.signedIn}>
      <h1>Your library</h1>
      <p class="muted">
        Everything you own with {props.signedIn?.email}. Downloads use private links that expire in
        minutes.
      </p>
      {props.items.length === 0 ? (
        <div class="card">
          <p>You do not own any products yet.</p>
          <p class="muted">
            Bought something with another email? Sign out and sign in with that email.{" "}
            <a href="/">Browse the store</a>.
          </p>
        </div>
      ) : (
        props.items.map((item) => (
          <section class="card" aria-labelledby={`p-${item.product.slug}`}>
            <h2 id={`p-${item.product.slug}`} style="margin-top:0">
              {item.product.name}
            </h2>
            {item.entitlement.endsAt ? (
              <p class="muted">Access until {formatDate(item.entitlement.endsAt)}</p>
            ) : null}
            <FileList files={item.files} />
          </section>
        ))
      )}
    </Layout>
  );
}

export function FileList(props: {
  files: {
    filename: string;
    size: number;
    version?: number;
    downloadUrl: string;
    lastDownloadedAt?: number | null;
  }[];
}) {
  if (props.files.length === 0)
    return <p class="muted">No files yet; the seller is preparing them.</p>;
  return (
    <ul class="files">
      {props.files.map((f) => (
        <li>
          <span>
            <span class="name">{f.filename}</span>
            <br />
            <span class="muted">
              {formatBytes(f.size)}
              {f.version && f.version > 1 ? ` · version ${f.version}` : ""}
              {f.lastDownloadedAt ? ` · last downloaded ${formatDate(f.lastDownloadedAt)}` : ""}
            </span>
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
  props: Common & {
    product: Product;
    files: { filename: string; size: number; downloadUrl: string }[];
    expiresAt: number;
    usesLeft: number | null;
  },
) {
  return (
    <Layout title={props.product.name} shopName={props.shopName} signedIn={props.signedIn}>
      <section class="card">
        <h1>{props.product.name}</h1>
        <p class="muted">
          This private link works until {formatDate(props.expiresAt)}
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
