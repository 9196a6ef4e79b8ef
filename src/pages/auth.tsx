import type { ShopProfile } from "../core/shop/profile.ts";
import { Field } from "./field.tsx";
import { Layout } from "./layout.tsx";
import { OutboxHint } from "./outboxHint.tsx";

interface Common {
  shop: ShopProfile;
  devOutbox?: boolean;
}

export function SignInPage(
  props: Common & {
    next: string | null;
    sent: string | null;
    error?: string;
    /** What the person typed, kept in the field when it was refused. */
    email?: string;
  },
) {
  const nextField = props.next ? <input type="hidden" name="next" value={props.next} /> : null;
  const error = props.error ? (
    <p class="notice bad" role="alert">
      {props.error}
    </p>
  ) : null;
  return (
    <Layout title="Sign in" shop={props.shop}>
      <div class="card" style="max-width:520px">
        {props.sent ? (
          <>
            <h1>Check your email</h1>
            {error ? (
              <>
                {error}
                <p class="muted">
                  The link and the code are in the mail we sent to <strong>{props.sent}</strong>.
                </p>
              </>
            ) : (
              <p class="notice ok" role="status">
                We sent a sign-in link to <strong>{props.sent}</strong>. It works once and expires
                in 15 minutes.
              </p>
            )}
            <OutboxHint show={props.devOutbox} />
            <form method="post" action="/auth/code">
              <input type="hidden" name="email" value={props.sent} />
              {nextField}
              <Field
                id="code"
                label="Or enter the 6-digit code from the email"
                input={{
                  name: "code",
                  type: "text",
                  inputmode: "numeric",
                  autocomplete: "one-time-code",
                  pattern: "[0-9]{6}",
                  maxlength: 6,
                  required: true,
                }}
              />
              <button type="submit">Sign in with code</button>
            </form>
            <form method="post" action="/auth/login" class="actions" style="margin-top:16px">
              <input type="hidden" name="email" value={props.sent} />
              {nextField}
              <button type="submit" class="secondary small">
                Send a new link and code
              </button>
              <a href="/auth/login">Use another email</a>
            </form>
          </>
        ) : (
          <>
            <h1>Sign in</h1>
            <p class="muted">
              Enter the email you used to buy. We will send you a sign-in link; no password needed.
            </p>
            {error}
            <form method="post" action="/auth/login">
              {nextField}
              <Field
                id="email"
                label="Email"
                input={{
                  name: "email",
                  type: "email",
                  autocomplete: "email",
                  required: true,
                  value: props.email,
                }}
              />
              <button type="submit">Email me a sign-in link</button>
            </form>
          </>
        )}
      </div>
    </Layout>
  );
}

/** Finishes a Supabase magic link whose session is in the URL fragment (read by a small script). */
export function SupabaseCallbackPage(props: Common & { cookieName: string; secure: boolean }) {
  return (
    <Layout title="Signing you in" shop={props.shop}>
      <div
        class="card"
        style="max-width:520px"
        id="callback"
        data-cookie={props.cookieName}
        data-secure={props.secure ? "1" : "0"}
      >
        <h1>Signing you in...</h1>
        <p class="muted" id="callback-status" role="status">
          One moment. If nothing happens, <a href="/auth/login">request a new sign-in link</a>.
        </p>
      </div>
      <script src="/assets/supabase-callback.js" defer />
    </Layout>
  );
}
