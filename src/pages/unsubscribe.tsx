import type { BuyerPageProps } from "./buyer.tsx";
import { Layout } from "./layout.tsx";

/**
 * The unsubscribe link's page (decision 0018): one button, since opening the link (a mail
 * scanner's GET) must not unsubscribe; then what happened.
 */
export function UnsubscribePage(
  props: BuyerPageProps & { email: string; action: string; done: boolean },
) {
  return (
    <Layout title="Update emails" shop={props.shop} signedIn={props.signedIn}>
      <section class="card" style="max-width:560px" aria-labelledby="unsubscribe-title">
        <h1 id="unsubscribe-title">
          {props.done ? "You are unsubscribed" : "Stop update emails?"}
        </h1>
        {props.done ? (
          <p>
            <strong>{props.email}</strong> will get no more emails about new releases. Receipts and
            download links you ask for still come, and your files stay in your library.
          </p>
        ) : (
          <>
            <p>
              Stop emails about new releases to <strong>{props.email}</strong>? Receipts and
              download links you ask for still come.
            </p>
            <form method="post" action={props.action}>
              <button type="submit">Unsubscribe</button>
            </form>
          </>
        )}
      </section>
    </Layout>
  );
}
