import { Layout, type LayoutProps } from "./layout.tsx";

export interface PreparingPageProps {
  /** The shop's name and who is signed in, as on every page. */
  page: Pick<LayoutProps, "shop" | "signedIn">;
  message: string;
  /** The download asked for: the page asks for it again by itself after `seconds`. */
  retry: string;
  seconds: number;
}

/**
 * A PDF asked for before the buyer's stamped copy is ready (decision 0026): the page reloads
 * itself (the Refresh header, and the meta tag for browsers that want one) until the copy is
 * there, and then the reload is the download.
 */
export function renderPreparingPage(props: PreparingPageProps) {
  return (
    <Layout title="Preparing your copy" {...props.page}>
      <meta http-equiv="refresh" content={`${props.seconds};url=${props.retry}`} />
      <div class="card" role="status" aria-live="polite" style="max-width:560px">
        <h1>Preparing your copy</h1>
        <p>{props.message}</p>
        <p class="muted">
          This page tries again every {props.seconds} seconds. If it does not start, use the link
          below.
        </p>
        <p class="actions">
          <a class="btn" href={props.retry}>
            Download now
          </a>
          <a class="btn secondary" href="/library">
            Go to your library
          </a>
        </p>
      </div>
    </Layout>
  );
}
