import { Layout, type LayoutProps } from "./layout.tsx";

const TITLES: Record<number, string> = {
  400: "That did not work",
  401: "Please sign in",
  403: "No access",
  404: "Not found",
  409: "That did not work",
  410: "This link is no longer valid",
  413: "Too large",
  416: "Range not available",
  429: "Too many requests",
  500: "Something went wrong",
  503: "Temporarily unavailable",
};

export interface ErrorPageProps {
  /** The shop's name and who is signed in, as on every page. */
  page: Pick<LayoutProps, "shopName" | "signedIn">;
  status: number;
  message: string;
  code?: string | undefined;
  /** Where signing in leads back to. */
  next: string;
  requestId: string;
}

export function renderErrorPage(props: ErrorPageProps) {
  const { status, code, next } = props;
  const title = TITLES[status] ?? "Error";
  return (
    <Layout title={title} {...props.page}>
      <div class="card" role="alert">
        <p class="status">{status}</p>
        <h1>{title}</h1>
        <p>{props.message}</p>
        {code === "unauthenticated" ? (
          <p>
            <a class="btn" href={`/auth/login?next=${encodeURIComponent(next)}`}>
              Sign in
            </a>
          </p>
        ) : (
          <p>
            <a href="/library">Go to your library</a> or <a href="/">back to the store</a>.
          </p>
        )}
        <p class="muted">Reference: {props.requestId}</p>
      </div>
    </Layout>
  );
}
