import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type Stripe from "stripe";
import { formatPrice } from "../../pages/format.ts";

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
.muted{color:#5b6478;font-size:.95rem}
label{display:block;font-weight:600;margin:0 0 6px}
input{width:100%;min-height:44px;padding:10px 12px;border:1px solid #b9c0cc;border-radius:8px;font:inherit}
input:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #8fb0ff;outline-offset:2px}
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

function Summary(props: { session: Stripe.Checkout.Session; items: Stripe.LineItem[] }) {
  const { session, items } = props;
  const currency = session.currency ?? "usd";
  const recurring = items.find((item) => item.price?.recurring)?.price?.recurring;
  const recurringTotal = items
    .filter((item) => item.price?.recurring)
    .reduce((sum, item) => sum + item.amount_total, 0);
  return (
    <section class="card" aria-labelledby="order">
      <h1 id="order">{items.length === 1 ? items[0]?.description : "Your order"}</h1>
      <ul class="items">
        {items.map((item) => (
          <li>
            <span>
              {item.description}
              {(item.quantity ?? 1) > 1 ? ` × ${item.quantity}` : ""}
            </span>
            <span>
              {formatPrice(item.amount_total, item.currency)}
              {item.price?.recurring ? ` ${every(item.price.recurring)}` : ""}
            </span>
          </li>
        ))}
      </ul>
      <p class="total">
        <span>Total due today</span>
        <span>{formatPrice(session.amount_total ?? 0, currency)}</span>
      </p>
      {recurring ? (
        <p class="muted">
          Then {formatPrice(recurringTotal, currency)} {every(recurring)} until you cancel.
        </p>
      ) : null}
    </section>
  );
}

export function CheckoutForm(props: {
  session: Stripe.Checkout.Session;
  items: Stripe.LineItem[];
  email: string;
  cardNumber?: string;
  error?: string;
}) {
  const { session } = props;
  const total = formatPrice(session.amount_total ?? 0, session.currency ?? "usd");
  const oneTime = session.mode === "payment";
  return (
    <Page title={oneTime ? `Pay ${total}` : "Subscribe"}>
      <Summary session={session} items={props.items} />
      {props.error ? (
        <div class="alert" role="alert">
          {props.error}
        </div>
      ) : null}
      <form class="card" method="post" action={`/checkout/${session.id}`}>
        <div class="field">
          <label for="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            required
            value={props.email}
          />
        </div>
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
              value={props.cardNumber ?? ""}
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
