import type { Child } from "hono/jsx";
import type { OrderTracking } from "../core/orders/tracking.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import { FileList, PaidAmount } from "./buyer.tsx";
import { Layout } from "./layout.tsx";
import { When } from "./shop.tsx";

type StepState = "done" | "waiting" | "problem";

/**
 * The buyer's order status (decision 0023), read like a parcel tracker: payment confirmed,
 * receipt sent, first download, each with its time or what is still to come.
 */
export function OrderStatusPage(props: {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  /** The order's progress, and what was paid (decision 0029). */
  tracking: OrderTracking;
  /** Where the buyer came from: the success page (guest) or the library. */
  back: { url: string; label: string };
}) {
  const t = props.tracking;
  const refunded = t.status === "refunded" || t.status === "disputed";
  const paid = t.paidAt !== null;
  return (
    <Layout title={`Order ${t.reference}`} shop={props.shop} signedIn={props.signedIn}>
      <section class="card">
        <p class="muted">
          Order <code>{t.reference}</code>
        </p>
        <h1>{t.productName}</h1>
        {paid ? (
          <p class="muted">
            <PaidAmount charges={t.charges} currency={t.currency} country={t.country ?? null} />
          </p>
        ) : null}
        {refunded ? (
          <p class="notice warn" role="status">
            This purchase was {t.status === "refunded" ? "refunded" : "disputed"}, so its files are
            no longer available.
          </p>
        ) : null}
        <ol class="tracker" aria-label="Where your order is">
          <Step
            state={paid ? "done" : t.status === "failed" ? "problem" : "waiting"}
            title="Payment confirmed"
          >
            {paid ? (
              <When at={t.paidAt as number} />
            ) : t.status === "failed" ? (
              "The payment failed, so nothing was charged."
            ) : (
              "Waiting for the payment provider to confirm the payment."
            )}
          </Step>
          <Step
            state={
              t.receipt.state === "sent"
                ? "done"
                : t.receipt.state === "bounced"
                  ? "problem"
                  : "waiting"
            }
            title="Receipt sent"
          >
            {t.receipt.state === "sent" ? (
              <>
                <When at={t.receipt.at as number} />
                {t.email ? <> to {t.email}</> : null}
              </>
            ) : t.receipt.state === "bounced" ? (
              <>
                Bounced: {t.email ? <>{t.email}'s</> : "your"} mail server refused it. Your files
                are still yours: download them here
                {props.back.url === "/library" ? "" : " or from the success page"}.
              </>
            ) : t.receipt.state === "sending" ? (
              <>Sending{t.email ? <> to {t.email}</> : null}. It usually arrives within minutes.</>
            ) : (
              "Sent once the payment is confirmed."
            )}
          </Step>
          <Step state={t.firstDownloadAt !== null ? "done" : "waiting"} title="First download">
            {t.firstDownloadAt !== null ? <When at={t.firstDownloadAt} /> : "Not yet."}
          </Step>
        </ol>
        {t.files.length && t.firstDownloadAt === null ? (
          <>
            <h2>Download your files</h2>
            <FileList files={t.files} />
          </>
        ) : null}
        {t.files.length && t.firstDownloadAt !== null ? (
          <p>
            Need them again? Your files stay in <a href="/library">your library</a>.
          </p>
        ) : null}
        <p>
          <a class="btn secondary" href={props.back.url}>
            {props.back.label}
          </a>
        </p>
      </section>
    </Layout>
  );
}

function Step(props: { state: StepState; title: string; children: Child }) {
  const word = { done: "Done", waiting: "Not yet", problem: "Problem" }[props.state];
  return (
    <li class={props.state}>
      <strong>{props.title}</strong> <span class="sr-only">({word})</span>
      <br />
      <span class="muted">{props.children}</span>
    </li>
  );
}
