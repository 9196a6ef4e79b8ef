import { raw } from "hono/html";
import { orderCharges } from "../core/orders/charges.ts";
import type { CheckoutConfirmation } from "../core/orders/confirmCheckout.ts";
import type { CorrectionOffer } from "../core/orders/correctEmail.ts";
import { orderReference } from "../core/orders/reference.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import { FileList, PaidAmount, PurchaseActions } from "./buyer.tsx";
import { BouncedReceiptNotice } from "./emailCorrection.tsx";
import { Layout } from "./layout.tsx";
import { OutboxHint } from "./outboxHint.tsx";
import { When } from "./shop.tsx";

interface Props {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  devOutbox?: boolean;
  confirmation: CheckoutConfirmation;
  /** The receipt bounced: the page offers to correct the address (decision 0024). */
  bounced?: CorrectionOffer | null;
  sessionId: string;
  /** How long the receipt's download link works. */
  linkTtlSeconds: number;
  /** How long a guest may use this page's session id. */
  guestWindowMs: number;
}

/**
 * The success page. While the payment is pending, /assets/checkout.js polls and swaps in this
 * same section once it is settled (a <noscript> refresh does it without JavaScript).
 */
export function CheckoutSuccessPage(props: Props) {
  const { status, product } = props.confirmation;
  return (
    <Layout
      title={
        status === "paid"
          ? "Your files are ready"
          : status === "pending"
            ? "Confirming your payment"
            : TITLES[status]
      }
      shop={props.shop}
      signedIn={props.signedIn}
    >
      <section
        class="card"
        id="checkout-status"
        aria-live="polite"
        data-status={status}
        data-session-id={status === "pending" ? props.sessionId : undefined}
      >
        {status === "paid" ? (
          <Paid {...props} />
        ) : status === "pending" ? (
          <Pending {...props} />
        ) : (
          <>
            <h1>{TITLES[status]}</h1>
            <p class="notice warn" role="alert">
              {MESSAGES[status]}
            </p>
            <p>
              <a class="btn" href={`/p/${product.slug}`}>
                {status === "refunded" ? `Back to ${product.name}` : "Try again"}
              </a>
            </p>
          </>
        )}
      </section>
      {status === "pending" ? <script src="/assets/checkout.js" defer /> : null}
    </Layout>
  );
}

function Paid(props: Props) {
  const { confirmation, signedIn, linkTtlSeconds, guestWindowMs, devOutbox } = props;
  const { product, order, files } = confirmation;
  const email = order.email ?? signedIn?.email ?? null;
  // The same proof as the download buttons': the buyer's session, or the checkout session id.
  const proof = `session_id=${encodeURIComponent(props.sessionId)}`;
  const links = signedIn
    ? {
        receipt: `/library/orders/${encodeURIComponent(order.id)}/receipt`,
        all: `/library/${encodeURIComponent(product.slug)}/all.zip`,
      }
    : { receipt: `/checkout/receipt?${proof}`, all: `/checkout/all.zip?${proof}` };
  // Where the purchase is, like a parcel tracker (decision 0023).
  const statusUrl = signedIn
    ? `/library/orders/${encodeURIComponent(order.id)}`
    : `/checkout/status?${proof}`;
  return (
    <>
      <p class="notice ok" role="status">
        Payment received. Your files are ready.
      </p>
      <h1>{product.name}</h1>
      <p class="muted">
        Ordered <When at={order.created_at} /> ·{" "}
        <PaidAmount
          charges={orderCharges(order)}
          currency={order.currency}
          country={order.buyer_country}
        />{" "}
        · order <code>{orderReference(order.id)}</code> · <a href={statusUrl}>Order status</a>
      </p>
      <PurchaseActions
        productName={product.name}
        receiptUrl={links.receipt}
        invoice={order.invoice_id !== null}
        downloadAllUrl={links.all}
        files={files}
      />
      <FileList files={files} />
      {props.bounced ? (
        <BouncedReceiptNotice offer={props.bounced} sessionId={props.sessionId} />
      ) : null}
      <h2>What happens next</h2>
      <ul>
        {email && !props.bounced ? (
          <li>
            A receipt is on its way to <strong>{email}</strong>, with a download link that works for{" "}
            {forHowLong(linkTtlSeconds)}.
          </li>
        ) : null}
        {signedIn ? null : (
          <li>
            The buttons above work for {forHowLong(guestWindowMs / 1000)} after your purchase.
          </li>
        )}
        <li>
          Your files stay in <a href="/library">your library</a>
          {email && !props.bounced ? (
            <>
              : sign in with <strong>{email}</strong> any time, no password needed.
            </>
          ) : (
            "."
          )}
        </li>
      </ul>
      {email && !props.bounced ? <OutboxHint show={devOutbox} /> : null}
    </>
  );
}

function Pending({ confirmation, signedIn, sessionId, linkTtlSeconds }: Props) {
  const { product, order } = confirmation;
  const email = order.email ?? signedIn?.email ?? null;
  const you = email ? <strong>{email}</strong> : "you";
  return (
    <>
      {/* Raw: hono/jsx would hoist a <meta> element into <head>, out of the <noscript>. */}
      {raw('<noscript><meta http-equiv="refresh" content="5"></noscript>')}
      <h1>Confirming your payment...</h1>
      <p>
        We are waiting for the payment provider to confirm your payment for{" "}
        <strong>{product.name}</strong>. Card payments take a few seconds; bank transfers can take
        longer. Nothing is lost if you leave.
      </p>
      <p class="muted" id="checkout-progress">
        This page updates by itself as soon as the payment is confirmed; you do not need to reload
        it.
      </p>
      <p class="notice" id="checkout-timeout" hidden>
        This is taking longer than usual, so this page has stopped checking. You can close it: as
        soon as the payment is confirmed we email {you} a receipt with your download link.{" "}
        <a href={`/checkout/success?session_id=${encodeURIComponent(sessionId)}`}>Check again</a>
      </p>
      <h2>What happens next</h2>
      <ul>
        <li>Once the payment is confirmed, this page shows your download buttons.</li>
        <li>
          We email {you} a receipt with a download link that works for {forHowLong(linkTtlSeconds)}.
        </li>
        <li>
          Your files stay in <a href="/library">your library</a>
          {email ? (
            <>
              : sign in with <strong>{email}</strong> any time.
            </>
          ) : (
            "."
          )}
        </li>
        <li>If the payment does not go through, nothing is charged and this page says so.</li>
      </ul>
    </>
  );
}

/** 86400 -> "24 hours", 604800 -> "7 days", 5400 -> "90 minutes". */
function forHowLong(seconds: number): string {
  const units = [
    [86_400, "day", 3 * 86_400],
    [3_600, "hour", 3_600],
    [60, "minute", 60],
  ] as const;
  for (const [size, name, from] of units) {
    if (seconds >= from && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return `${Math.round(seconds)} seconds`;
}

const TITLES = {
  unpaid: "Payment not completed",
  expired: "This checkout has expired",
  failed: "The payment failed",
  refunded: "This purchase was refunded",
} as const;

const MESSAGES = {
  unpaid: "The payment was not completed, so nothing was charged. You can try again.",
  expired: "This checkout expired before it was paid. Nothing was charged; start a new one to buy.",
  failed:
    "Your bank did not complete the payment. Nothing was charged; you can try again with another method.",
  refunded: "This purchase was refunded, so its files are no longer available.",
} as const;
