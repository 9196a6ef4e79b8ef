import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type Stripe from "stripe";
import { formatPrice } from "../../pages/format.ts";
import { customRange } from "../flows/quote.ts";
import type { Quote } from "../quoteAmounts.ts";
import { TAX_TABLE } from "../taxes.ts";

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:#1a1f36;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:480px;margin:0 auto;padding:16px 16px 40px}
.banner{background:#fff4d6;border:1px solid #e8c46a;border-radius:8px;padding:10px 14px;margin:0 0 16px;font-size:.95rem}
.card{background:#fff;border:1px solid #e3e6ec;border-radius:12px;padding:20px;margin:0 0 16px}
h1{font-size:1.35rem;margin:0 0 12px}
h2{font-size:1rem;margin:0 0 8px}
ul.items{list-style:none;padding:0;margin:0 0 12px}
ul.items li{display:flex;justify-content:space-between;gap:12px;padding:6px 0;border-bottom:1px solid #eef0f4}
.total{display:flex;justify-content:space-between;font-weight:700;margin:0}
.sum{display:flex;justify-content:space-between;margin:0 0 4px}
.muted{color:#5b6478;font-size:.95rem}
label{display:block;font-weight:600;margin:0 0 6px}
input,select{width:100%;min-height:44px;padding:10px 12px;border:1px solid #b9c0cc;border-radius:8px;font:inherit;background:#fff;color:inherit}
input:focus-visible,select:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #8fb0ff;outline-offset:2px}
.hint{color:#5b6478;font-size:.9rem;margin:4px 0 0}
.inline{display:flex;gap:8px;align-items:stretch}
.inline input{flex:1;min-width:0}
.inline button{width:auto;margin:0;padding:0 16px;flex:none}
dl.sums{display:grid;grid-template-columns:1fr auto;gap:4px 12px;margin:0 0 8px}
dl.sums dt{font-family:inherit;font-weight:400}dl.sums dd{margin:0;text-align:right}
dl.sums .discount{color:#1e874b}
.field{margin:0 0 14px}
fieldset{border:0;padding:0;margin:0 0 18px}
legend{font-weight:700;padding:0;margin:0 0 10px}
button{display:block;width:100%;min-height:48px;margin:0 0 10px;border-radius:8px;border:1px solid #4b5bd7;background:#4b5bd7;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button.secondary{background:#fff;color:#3442b8}
.alert{border-left:4px solid #c0392b;background:#fdecea;padding:12px 14px;border-radius:6px;margin:0 0 16px;font-weight:600}
.ok{border-left:4px solid #1e874b;background:#e9f7ef;padding:12px 14px;border-radius:6px;margin:0 0 16px}
dl{margin:0}dt{font-family:ui-monospace,Menlo,monospace;font-weight:600}dd{margin:0 0 8px}
a{color:#3442b8}
`;

/** A page of the local Stripe: a checkout page, or (`receipt`) a receipt or invoice page. */
export function Page(props: { title: string; children: Child; kind?: "checkout" | "receipt" }) {
  const receipt = props.kind === "receipt";
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>
            {props.title} · {receipt ? "Local test receipt" : "Local test checkout"}
          </title>
          <style>{raw(CSS)}</style>
        </head>
        <body>
          <main>
            {receipt ? (
              <p class="banner" role="note">
                <strong>Local test receipt.</strong> This page stands in for Stripe's receipt and
                invoice pages while the shop runs offline: no real money moved.
              </p>
            ) : (
              <p class="banner" role="note">
                <strong>Local test checkout.</strong> This page stands in for Stripe Checkout while
                the shop runs offline: no real money moves and no card data leaves this computer.
              </p>
            )}
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

const every = (recurring: Stripe.Price.Recurring) =>
  recurring.interval_count === 1
    ? `every ${recurring.interval}`
    : `every ${recurring.interval_count} ${recurring.interval}s`;

/** What the buyer fills in on the form; kept when the page is shown again. */
export interface FormValues {
  email: string;
  cardNumber: string;
  promotionCode: string;
  country: string;
  taxId: string;
  /** Major units, as typed ("12.50"). */
  amount: string;
}

function Summary(props: {
  session: Stripe.Checkout.Session;
  items: Stripe.LineItem[];
  quote?: Quote | null;
}) {
  const { session, items, quote } = props;
  const currency = session.currency ?? "usd";
  const money = (amount: number) => formatPrice(amount, currency);
  const recurring = items.find((item) => item.price?.recurring)?.price?.recurring;
  const recurringTotal = items
    .filter((item) => item.price?.recurring)
    .reduce((sum, item) => sum + item.amount_total, 0);
  // A paid session's own amounts; an open one's as the buyer's choices make them.
  const sums = quote ?? {
    subtotal: session.amount_subtotal ?? 0,
    discount: session.total_details?.amount_discount ?? 0,
    tax: session.total_details?.amount_tax ?? 0,
    total: session.amount_total ?? 0,
    lines: items.map((item) => ({ subtotal: item.amount_subtotal })),
  };
  const taxed = session.automatic_tax.enabled;
  const inclusive = items.every((item) => item.price?.tax_behavior === "inclusive");
  return (
    <section class="card" aria-labelledby="order">
      <h1 id="order">{items.length === 1 ? items[0]?.description : "Your order"}</h1>
      <ul class="items">
        {items.map((item, i) => (
          <li>
            <span>
              {item.description}
              {(item.quantity ?? 1) > 1 ? ` × ${item.quantity}` : ""}
            </span>
            <span>
              {money(sums.lines[i]?.subtotal ?? item.amount_subtotal)}
              {item.price?.recurring ? ` ${every(item.price.recurring)}` : ""}
            </span>
          </li>
        ))}
      </ul>
      {sums.discount > 0 || taxed ? (
        <dl class="sums">
          <dt>Subtotal</dt>
          <dd data-subtotal>{money(sums.subtotal)}</dd>
          {sums.discount > 0 ? (
            <>
              <dt class="discount">Discount</dt>
              <dd class="discount" data-discount>
                −{money(sums.discount)}
              </dd>
            </>
          ) : null}
          {taxed ? (
            <>
              <dt>{taxLabel(quote ?? null, inclusive)}</dt>
              <dd data-tax>{money(sums.tax)}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      <p class="total">
        <span>Total due today</span>
        <span data-total>{money(sums.total)}</span>
      </p>
      {recurring ? (
        <p class="muted">
          Then {money(recurringTotal)} {every(recurring)} until you cancel.
        </p>
      ) : null}
    </section>
  );
}

function taxLabel(quote: Quote | null, inclusive: boolean): string {
  if (!quote?.country) return "Tax";
  if (quote.taxabilityReason === "reverse_charge") return "VAT (reverse charge)";
  const name = TAX_TABLE.find((row) => row.country === quote.country)?.name ?? quote.country;
  return `Tax (${name}, ${quote.percent}%${inclusive ? ", included" : ""})`;
}

export function CheckoutForm(props: {
  session: Stripe.Checkout.Session;
  items: Stripe.LineItem[];
  values: FormValues;
  quote: Quote | null;
  error?: string;
}) {
  const { session, values } = props;
  const currency = session.currency ?? "usd";
  const total = formatPrice(props.quote?.total ?? session.amount_total ?? 0, currency);
  const oneTime = session.mode === "payment";
  const custom = props.items.find((item) => item.price?.custom_unit_amount)?.price
    ?.custom_unit_amount;
  const range = custom ? customRange(custom) : null;
  const repriced = Boolean(
    custom || session.allow_promotion_codes || session.automatic_tax.enabled,
  );
  return (
    <Page title={oneTime ? `Pay ${total}` : "Subscribe"}>
      <Summary session={session} items={props.items} quote={props.quote} />
      {props.error ? (
        <div class="alert" role="alert">
          {props.error}
        </div>
      ) : null}
      <form class="card" method="post" action={`/checkout/${session.id}`}>
        {range ? (
          <div class="field">
            <label for="amount">Amount you want to pay ({currency.toUpperCase()})</label>
            <input
              id="amount"
              name="amount"
              type="text"
              inputmode="decimal"
              required
              aria-describedby="amount-hint"
              value={values.amount}
            />
            <p class="hint" id="amount-hint">
              From {formatPrice(range.min, currency)}
              {custom?.maximum !== null ? ` to ${formatPrice(range.max, currency)}` : ""}.
            </p>
          </div>
        ) : null}
        <div class="field">
          <label for="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            required
            value={values.email}
          />
        </div>
        {session.automatic_tax.enabled ? (
          <div class="field">
            <label for="country">Country</label>
            <select id="country" name="country" autocomplete="country" required>
              {TAX_TABLE.map((row) => (
                <option value={row.country} selected={row.country === values.country}>
                  {row.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        {session.tax_id_collection?.enabled ? (
          <div class="field">
            <label for="tax_id">Business tax ID (optional)</label>
            <input
              id="tax_id"
              name="tax_id"
              type="text"
              autocomplete="off"
              aria-describedby="tax-id-hint"
              value={values.taxId}
            />
            <p class="hint" id="tax-id-hint">
              An EU VAT number with its country prefix (DE123456789), a UK VAT number or an
              Australian ABN.
            </p>
          </div>
        ) : null}
        {session.allow_promotion_codes ? (
          <div class="field">
            <label for="promotion_code">Promotion code (optional)</label>
            <div class="inline">
              <input
                id="promotion_code"
                name="promotion_code"
                type="text"
                autocomplete="off"
                value={values.promotionCode}
              />
              <button type="submit" name="method" value="update" class="secondary" formnovalidate>
                Apply
              </button>
            </div>
          </div>
        ) : repriced ? (
          <button type="submit" name="method" value="update" class="secondary" formnovalidate>
            Update total
          </button>
        ) : null}
        <fieldset>
          <legend>Pay by card</legend>
          <div class="field">
            <label for="card_number">Card number</label>
            <input
              id="card_number"
              name="card_number"
              type="text"
              inputmode="numeric"
              autocomplete="cc-number"
              placeholder="4242 4242 4242 4242"
              aria-describedby="test-cards"
              value={values.cardNumber}
            />
          </div>
          <button type="submit" name="method" value="card">
            {oneTime ? `Pay ${total}` : `Subscribe and pay ${total}`}
          </button>
        </fieldset>
        {oneTime ? (
          <fieldset>
            <legend>Or pay by bank transfer</legend>
            <button type="submit" name="method" value="bank_transfer" class="secondary">
              Bank transfer (settles in a few seconds)
            </button>
            <button type="submit" name="method" value="bank_transfer_fail" class="secondary">
              Bank transfer that fails
            </button>
          </fieldset>
        ) : (
          <p class="muted">Subscriptions are paid by card in the local checkout.</p>
        )}
      </form>
      <section class="card" id="test-cards" aria-labelledby="cards-title">
        <h2 id="cards-title">Test cards</h2>
        <dl>
          <dt>4242 4242 4242 4242</dt>
          <dd>pays at once</dd>
          <dt>4000 0000 0000 0002</dt>
          <dd>is declined</dd>
        </dl>
        <p class="muted">
          Any other number is refused.
          {oneTime
            ? " A bank transfer completes the checkout at once and pays a few seconds later (or fails, with the second button)."
            : ""}
          {session.allow_promotion_codes ? " Try the codes LAUNCH40 and TENOFF." : ""}
        </p>
      </section>
      {session.cancel_url ? (
        <p>
          <a href={session.cancel_url}>Cancel and return to the shop</a>
        </p>
      ) : null}
    </Page>
  );
}

/** What an expired, completed or unknown session shows instead of the form. */
export function CheckoutClosed(props: {
  session: Stripe.Checkout.Session | null;
  items: Stripe.LineItem[];
}) {
  const { session } = props;
  if (!session)
    return (
      <Page title="Not found">
        <section class="card">
          <h1>No such checkout</h1>
          <p>This checkout link is not known to the local Stripe. Start again from the shop.</p>
        </section>
      </Page>
    );
  const back =
    session.status === "complete"
      ? session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", session.id)
      : session.cancel_url;
  const processing = session.status === "complete" && session.payment_status === "unpaid";
  return (
    <Page title={session.status === "expired" ? "Checkout expired" : "Checkout complete"}>
      <Summary session={session} items={props.items} />
      <section class="card">
        {session.status === "expired" ? (
          <>
            <h1>This checkout has expired</h1>
            <p>Nothing was charged. Start a new checkout from the shop to buy.</p>
          </>
        ) : (
          <>
            <h1>{processing ? "Payment on its way" : "Payment received"}</h1>
            <p class="ok" role="status">
              {processing
                ? "This checkout is complete; the bank transfer is still being processed."
                : "This checkout is complete. Thank you!"}
            </p>
          </>
        )}
        {back ? <a href={back}>Return to the shop</a> : null}
      </section>
    </Page>
  );
}
