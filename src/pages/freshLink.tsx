import type { ShopProfile } from "../core/shop/profile.ts";
import { Field } from "./field.tsx";
import { Layout } from "./layout.tsx";
import { OutboxHint } from "./outboxHint.tsx";

interface Common {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  devOutbox?: boolean;
}

const HEADINGS = {
  expired: "This download link has expired",
  used_up: "This download link has been used the maximum number of times",
};

/** A token link that expired or whose uses are spent: say so, and offer a fresh one by email. */
export function ExpiredTokenPage(
  props: Common & { productName: string; reason: "expired" | "used_up"; action: string },
) {
  return (
    <Layout title={HEADINGS[props.reason]} shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="expired-title">
        <h1 id="expired-title">{HEADINGS[props.reason]}</h1>
        <p>
          It was a private link to download <strong>{props.productName}</strong>.{" "}
          {props.reason === "expired"
            ? "Download links stop working after a while, so an old or forwarded email cannot be used forever."
            : "Some download links work only a few times, so a forwarded email cannot be used forever."}
        </p>
        <h2>Send me a fresh link</h2>
        <p class="muted">
          Enter the email address you bought with. If it has access to this product, we will email a
          new link to it.
        </p>
        <form method="post" action={props.action}>
          <Field
            id="email"
            label="Email"
            input={{
              name: "email",
              type: "email",
              autocomplete: "email",
              maxlength: 254,
              required: true,
            }}
          />
          <button type="submit">Send me a fresh link</button>
        </form>
        <p class="muted" style="margin:20px 0 0">
          Or <a href="/auth/login?next=/library">sign in to your library</a> to download your files
          at any time.
        </p>
      </section>
    </Layout>
  );
}

/** The same answer whatever happened, so it never tells whether an address is a customer. */
export function FreshLinkSentPage(props: Common & { email: string; linkTtlSeconds: number }) {
  return (
    <Layout title="Check your email" shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="sent-title">
        <h1 id="sent-title">Check your email</h1>
        <p class="notice ok" role="status">
          If <strong>{props.email}</strong> has access, a fresh link is on its way to it. Links
          expire after {formatTtl(props.linkTtlSeconds)}.
        </p>
        <OutboxHint show={props.devOutbox} />
        <p class="muted">
          Nothing after a few minutes? Look in your spam folder, and make sure you used the address
          you bought with.
        </p>
        <p>
          <a class="btn secondary" href="/auth/login?next=/library">
            Sign in to your library
          </a>
        </p>
      </section>
    </Layout>
  );
}

/** 86400 -> "24 hours", 604800 -> "7 days", 5400 -> "90 minutes". */
export function formatTtl(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (seconds % 86400 === 0 && seconds >= 2 * 86400) return plural(seconds / 86400, "day");
  if (seconds % 3600 === 0) return plural(seconds / 3600, "hour");
  if (seconds % 60 === 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}
