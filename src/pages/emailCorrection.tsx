import type { CorrectionOffer } from "../core/orders/correctEmail.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import { Field } from "./field.tsx";
import { Layout } from "./layout.tsx";
import { OutboxHint } from "./outboxHint.tsx";

interface Common {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  devOutbox?: boolean;
}

/**
 * On the success page when the receipt bounced (decision 0024): says so, and offers to send the
 * purchase to the address the buyer meant. Nothing moves until that address's sign-in link is used.
 */
export function BouncedReceiptNotice(props: {
  offer: CorrectionOffer;
  sessionId: string;
  error?: string;
  typed?: string;
}) {
  const { offer } = props;
  return (
    <section class="card" id="receipt-bounced" aria-labelledby="bounced-title">
      <h2 id="bounced-title" style="margin-top:0">
        Your receipt could not be delivered
      </h2>
      <p class="notice warn" role="alert">
        The mail server for <strong>{offer.email ?? "your address"}</strong> refused your receipt,
        so it has no download link from us. Perhaps the address has a typo?
      </p>
      {offer.pendingEmail ? (
        <p class="notice" role="status">
          We sent a sign-in link to <strong>{offer.pendingEmail}</strong>. Open it to move this
          purchase there. Wrong again? Send it to another address below.
        </p>
      ) : null}
      <CorrectionForm sessionId={props.sessionId} error={props.error} typed={props.typed} />
      <p class="muted">
        Your files stay downloadable from this page until the buttons above stop working, whatever
        you do here.
      </p>
    </section>
  );
}

function CorrectionForm(props: { sessionId: string; error?: string; typed?: string }) {
  return (
    <form method="post" action="/checkout/correct-email">
      <input type="hidden" name="sessionId" value={props.sessionId} />
      {props.error ? (
        <p class="notice bad" role="alert" id="correction-error">
          {props.error}
        </p>
      ) : null}
      <Field
        id="corrected-email"
        label="The email address you meant"
        input={{
          name: "email",
          type: "email",
          autocomplete: "email",
          maxlength: 254,
          required: true,
          value: props.typed,
          "aria-invalid": props.error ? "true" : undefined,
        }}
        hint="We email it a sign-in link. Once you open it, this purchase, its receipt and your library move to that address."
      />
      <button type="submit">Send my purchase there</button>
    </form>
  );
}

/** After a correction was asked for: check the new inbox. */
export function CorrectionSentPage(
  props: Common & {
    email: string;
    productName: string;
    minutes: number | null;
    backUrl: string;
  },
) {
  return (
    <Layout title="Check your email" shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="sent-title">
        <h1 id="sent-title">Check your email</h1>
        <p class="notice ok" role="status">
          We sent a sign-in link to <strong>{props.email}</strong>
          {props.minutes ? `; it works for ${props.minutes} minutes` : ""}.
        </p>
        <p>
          Open it on any device: <strong>{props.productName}</strong> then moves to {props.email},
          with a new receipt, and stays in your library there. Until you open it, nothing changes.
        </p>
        <OutboxHint show={props.devOutbox} />
        <p class="muted">
          Nothing after a few minutes? Look in your spam folder, or go back and check the address.
        </p>
        <p>
          <a class="btn secondary" href={props.backUrl}>
            Back to your purchase
          </a>
        </p>
      </section>
    </Layout>
  );
}

/** A correction that was refused: why, and the way on. */
export function CorrectionRefusedPage(
  props: Common & {
    error: string;
    /** The purchase's page, when the session id looked like one; else the sign-in page. */
    backUrl: string | null;
    /** A mistyped address: the form again, with what was typed. */
    retry?: { sessionId: string; typed: string };
  },
) {
  return (
    <Layout title="The address was not changed" shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="refused-title">
        <h1 id="refused-title">The address was not changed</h1>
        {props.retry ? (
          <CorrectionForm
            sessionId={props.retry.sessionId}
            error={props.error}
            typed={props.retry.typed}
          />
        ) : (
          <p class="notice bad" role="alert">
            {props.error}
          </p>
        )}
        <p>
          {props.backUrl ? (
            <a class="btn" href={props.backUrl}>
              Back to your purchase
            </a>
          ) : null}{" "}
          <a class={props.backUrl ? "btn secondary" : "btn"} href="/auth/login?next=/library">
            Sign in to your library
          </a>
        </p>
      </section>
    </Layout>
  );
}
