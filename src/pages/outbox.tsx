import type { OutboxMessage } from "../adapters/mail-outbox/index.ts";
import { Layout } from "./layout.tsx";

export function OutboxPage(props: {
  shopName: string;
  signedIn: { email: string; admin: boolean } | null;
  messages: OutboxMessage[];
}) {
  return (
    <Layout title="Outbox" shopName={props.shopName} signedIn={props.signedIn}>
      <h1>Outbox</h1>
      <p class="notice warn">
        Development mail: nothing is really sent. Each email the shop would send is kept here,
        newest first.
      </p>
      {props.messages.length === 0 ? <p class="muted">No mail yet.</p> : null}
      {props.messages.map((m) => (
        <article class="card">
          <h2 style="margin-top:0">{m.subject}</h2>
          <p class="muted">
            To {m.to} · {m.createdAt}
          </p>
          <pre>{m.text}</pre>
        </article>
      ))}
    </Layout>
  );
}
