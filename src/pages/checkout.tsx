import type { CheckoutConfirmation } from "../core/orders/confirmCheckout.ts";
import { FileList } from "./buyer.tsx";
import { Layout } from "./layout.tsx";

interface Props {
  shopName: string;
  signedIn: { email: string; admin: boolean } | null;
  confirmation: CheckoutConfirmation;
}

export function CheckoutSuccessPage({ shopName, signedIn, confirmation }: Props) {
  const { status, product, order, files } = confirmation;
  const email = order.email;
  return (
    <Layout
      title={status === "paid" ? "Your files are ready" : "Confirming your payment"}
      shopName={shopName}
      signedIn={signedIn}
    >
      <section class="card" aria-live="polite">
        {status === "paid" ? (
          <>
            <p class="notice ok" role="status">
              Payment received. Your files are ready.
            </p>
            <h1>{product.name}</h1>
            <FileList files={files.map((f) => ({ ...f }))} />
            <p class="muted" style="margin-top:16px">
              {email ? (
                <>
                  A receipt is on its way to <strong>{email}</strong> with a download link. Your
                  files stay in <a href="/library">your library</a>: sign in with that email any
                  time.
                </>
              ) : (
                <>
                  Your files stay in <a href="/library">your library</a>.
                </>
              )}
            </p>
          </>
        ) : status === "pending" ? (
          <>
            <meta http-equiv="refresh" content="3" />
            <h1>Confirming your payment...</h1>
            <p>
              We are waiting for the payment provider to confirm your payment for{" "}
              <strong>{product.name}</strong>. This page updates by itself; it usually takes a few
              seconds (bank transfers can take longer).
            </p>
            <p class="muted">
              You can close this page: once the payment is confirmed we email{" "}
              {email ? <strong>{email}</strong> : "you"} a receipt with your download link.
            </p>
          </>
        ) : (
          <>
            <h1>{TITLES[status]}</h1>
            <p class="notice warn" role="alert">
              {MESSAGES[status]}
            </p>
            <p>
              <a class="btn" href={`/p/${product.slug}`}>
                Back to {product.name}
              </a>
            </p>
          </>
        )}
      </section>
    </Layout>
  );
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
