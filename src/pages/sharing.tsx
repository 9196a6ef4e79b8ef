import type { ShopProfile } from "../core/shop/profile.ts";
import { Layout } from "./layout.tsx";
import { OutboxHint } from "./outboxHint.tsx";

interface Common {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  devOutbox?: boolean;
}

/**
 * Sharing detection (decision 0028): a flagged buyer's download asks them to confirm by email.
 * Says why in plain words, and offers one button: the link goes to the purchase's own address.
 */
export function ConfirmItsYouPage(props: Common & { request: string; next: string | null }) {
  return (
    <Layout title="Confirm it's you" shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="confirm-title">
        <h1 id="confirm-title">Confirm it's you</h1>
        <p>
          Your recent downloads came from more networks or devices than usual, so before the next
          one {props.shop.name} asks you to confirm that it is you. A new phone, travelling or a VPN
          can do that: it takes one click.
        </p>
        <p>
          We will email a one-time link to the address you bought with. Open it, and your download
          goes on.
        </p>
        <form method="post" action="/sharing/confirm">
          <input type="hidden" name="request" value={props.request} />
          {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
          <button type="submit">Email me a confirmation link</button>
        </form>
        <p class="muted" style="margin:20px 0 0">
          Nothing is taken away: your purchase stays yours. Questions?{" "}
          {props.shop.supportEmail ? (
            <a href={`mailto:${props.shop.supportEmail}`}>Write to {props.shop.name}</a>
          ) : (
            "Reply to any email from the shop."
          )}
        </p>
      </section>
    </Layout>
  );
}

/** The link is on its way (or nothing was needed any more). */
export function ConfirmSentPage(
  props: Common & { email: string | null; hours: number; next: string | null },
) {
  if (!props.email) {
    return (
      <Layout title="Nothing to confirm" shop={props.shop} signedIn={props.signedIn}>
        <section class="card" style="max-width:560px" aria-labelledby="sent-title">
          <h1 id="sent-title">Nothing to confirm</h1>
          <p class="notice ok" role="status">
            Your downloads do not need a confirmation any more.
          </p>
          {props.next ? (
            <p>
              <a class="btn" href={props.next}>
                Continue your download
              </a>
            </p>
          ) : null}
        </section>
      </Layout>
    );
  }
  return (
    <Layout title="Check your email" shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="sent-title">
        <h1 id="sent-title">Check your email</h1>
        <p class="notice ok" role="status">
          A confirmation link is on its way to <strong>{props.email}</strong>, the address you
          bought with. It works once, for {props.hours} hours.
        </p>
        <OutboxHint show={props.devOutbox} />
        <p class="muted">
          Nothing after a few minutes? Look in your spam folder. Asking again sends a new link and
          the older one stops working.
        </p>
      </section>
    </Layout>
  );
}

/** For the one place errors become pages (http/errors.ts): a `confirm_required` refusal. */
export function renderConfirmItsYou(props: Common & { request: string; next: string | null }) {
  return <ConfirmItsYouPage {...props} />;
}
