/** The store: the product list, a product's page, and a free product claimed by email. */
import { onSale, pricingOf } from "../core/catalog/pricing.ts";
import type { Asset, Product } from "../db/schema.ts";
import type { BuyerPageProps } from "./buyer.tsx";
import { Cover } from "./cover.tsx";
import { Field } from "./field.tsx";
import { formatBytes, formatPrice } from "./format.ts";
import { Layout } from "./layout.tsx";
import { markdownExcerpt, renderMarkdown } from "./markdown.ts";
import { OutboxHint } from "./outboxHint.tsx";

/**
 * A product's price as the store shows it (decision 0029): "Pay what you want" with its minimum
 * and suggested amounts, or the price, after the list price crossed out during a sale.
 */
export function priceLabel(p: Product) {
  if (p.kind === "free") return "Free";
  const money = (amount: number) => formatPrice(amount, p.currency);
  const { payWhatYouWant, listPrice } = pricingOf(p);
  if (payWhatYouWant)
    return (
      <>
        Pay what you want{" "}
        <span class="price-note">
          from {money(payWhatYouWant.minimum)}
          {payWhatYouWant.suggested > payWhatYouWant.minimum
            ? ` · suggested ${money(payWhatYouWant.suggested)}`
            : ""}
        </span>
      </>
    );
  const price = money(p.price_amount);
  const label = p.kind === "subscription" ? `${price} / ${p.interval ?? "month"}` : price;
  if (!onSale(p) || listPrice === null) return label;
  return (
    <>
      <del>
        <span class="sr-only">was </span>
        {money(listPrice)}
      </del>{" "}
      <span class="sr-only">now </span>
      {label}
    </>
  );
}

export function StorefrontPage(props: BuyerPageProps & { products: Product[] }) {
  return (
    <Layout title={props.shop.name} shop={props.shop} signedIn={props.signedIn}>
      <h1>{props.shop.name}</h1>
      {props.products.length === 0 ? (
        <p class="muted">Nothing for sale yet. Check back soon.</p>
      ) : (
        <div class="grid">
          {props.products.map((p) => (
            <article class="card product-card">
              {p.cover_image ? (
                <Cover id={p.cover_image} alt="" class="cover card-cover" lazy />
              ) : null}
              <h2 style="margin-top:0">
                <a href={`/p/${p.slug}`}>{p.name}</a>
              </h2>
              <p class="muted">{markdownExcerpt(p.description)}</p>
              <p class="price">{priceLabel(p)}</p>
            </article>
          ))}
        </div>
      )}
    </Layout>
  );
}

export function ProductPage(
  props: BuyerPageProps & {
    product: Product;
    assets: Asset[];
    owned: boolean;
    cancelled?: boolean;
    /** The address a free claim link was just mailed to. */
    claimSentTo?: string | null;
    /** Why a free claim was refused (a bad address, too many requests). */
    claimError?: string | null;
    /** What was typed, kept in the field after a refusal. */
    claimEmail?: string;
  },
) {
  const p = props.product;
  return (
    <Layout title={p.name} shop={props.shop} signedIn={props.signedIn}>
      {props.cancelled ? (
        <p class="notice warn" role="status">
          Checkout cancelled: nothing was charged. You can buy whenever you are ready.
        </p>
      ) : null}
      {props.claimSentTo ? (
        <p class="notice ok" role="status">
          Check your email: we sent a link to <strong>{props.claimSentTo}</strong>. Open it to get{" "}
          {p.name}.
        </p>
      ) : null}
      {props.claimSentTo ? <OutboxHint show={props.devOutbox} /> : null}
      <article class="card">
        {p.cover_image ? <Cover id={p.cover_image} alt={p.name} class="cover" /> : null}
        <h1>{p.name}</h1>
        <p class="price">{priceLabel(p)}</p>
        {p.description ? <Description markdown={p.description} /> : null}
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
          ) : p.kind === "free" && !props.signedIn ? (
            <FreeClaimForm
              slug={p.slug}
              error={props.claimError ?? null}
              email={props.claimEmail}
            />
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

/** A description rendered from Markdown, made safe by markdown.ts (no raw HTML, safe links). */
export function Description({ markdown }: { markdown: string }) {
  return <div class="prose" dangerouslySetInnerHTML={{ __html: renderMarkdown(markdown) }} />;
}

/** A free product for someone not signed in: an address, and the files come by mail. */
function FreeClaimForm(props: { slug: string; error: string | null; email?: string | undefined }) {
  return (
    <form method="post" action={`/checkout/${props.slug}`}>
      {props.error ? (
        <p class="notice bad" role="alert">
          {props.error}
        </p>
      ) : null}
      <Field
        id="claim-email"
        label="Your email"
        hint="We email you a link to the files. It also keeps them in your library."
        input={{
          name: "email",
          type: "email",
          autocomplete: "email",
          maxlength: 254,
          required: true,
          value: props.email,
        }}
      />
      <button type="submit">Email me the files</button>
    </form>
  );
}

/** The page a claim link opens: one click to confirm, so a mail scanner's visit claims nothing. */
export function ClaimPage(
  props: BuyerPageProps & { productName: string; email: string; action: string },
) {
  return (
    <Layout title={`Get ${props.productName}`} shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="claim-title">
        <h1 id="claim-title">Get {props.productName}</h1>
        <p>
          Your address <strong>{props.email}</strong> is confirmed. Click below for your files; they
          stay in your library whenever you sign in with this address.
        </p>
        <form method="post" action={props.action}>
          <button type="submit">Get my files</button>
        </form>
      </section>
    </Layout>
  );
}
