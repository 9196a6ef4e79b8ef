import type { OutboxMessage } from "../adapters/mail-outbox/index.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import { formatDate } from "./format.ts";
import { Layout } from "./layout.tsx";

/**
 * The development outbox: each mail as its reader will see it. The HTML is shown in a sandboxed
 * frame (no script, no access to this page) whose links open a new tab, as from a webmail inbox.
 */
export function OutboxPage(props: {
  shop: ShopProfile;
  signedIn: { email: string; admin: boolean } | null;
  messages: OutboxMessage[];
}) {
  return (
    <Layout
      title="Outbox"
      shop={props.shop}
      signedIn={props.signedIn}
      scripts={["/assets/local-times.js"]}
    >
      <h1>Outbox</h1>
      <p class="notice warn">
        Development mail: nothing is really sent. Each email the shop would send is kept here,
        newest first.
      </p>
      {props.messages.length === 0 ? <p class="muted">No mail yet.</p> : null}
      {props.messages.map((m, i) => (
        <article class="card mail" aria-labelledby={`mail-${i}`}>
          <h2 id={`mail-${i}`} style="margin-top:0">
            {m.subject}
          </h2>
          <p class="muted">
            To {m.to} ·{" "}
            <time datetime={m.createdAt} data-local>
              {formatDate(Date.parse(m.createdAt))}
            </time>
          </p>
          <iframe
            title={`The email "${m.subject}" to ${m.to}`}
            sandbox="allow-popups allow-popups-to-escape-sandbox"
            srcdoc={m.html}
            loading={i < 3 ? "eager" : "lazy"}
          />
          <details>
            <summary>Plain text</summary>
            <pre>{m.text}</pre>
          </details>
        </article>
      ))}
    </Layout>
  );
}
