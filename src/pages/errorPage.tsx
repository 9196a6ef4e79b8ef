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
  page: Pick<LayoutProps, "shop" | "signedIn">;
  status: number;
  message: string;
  code?: string | undefined;
  /** The page that failed, when it was a GET a person can simply try again. */
  retry: string | null;
  /** Where signing in leads back to. */
  next: string;
  /** The product the failed request was about, when its path names one (`/download/{slug}/...`, `/claim/{slug}`). */
  productSlug: string | null;
  requestId: string;
}

interface Step {
  href: string;
  label: string;
}

/**
 * What a person can do next, best first: every error page offers a way on from where it stands,
 * and the links never depend on what exists (a 403 and a 404 for a product path offer the same).
 */
function nextSteps(props: ErrorPageProps): Step[] {
  const { code, status, retry, next, productSlug } = props;
  const signIn = { href: `/auth/login?next=${encodeURIComponent(next)}`, label: "Sign in" };
  const library = { href: "/library", label: "Go to your library" };
  const store = { href: "/", label: "Back to the store" };
  const product = productSlug
    ? {
        href: `/p/${productSlug}`,
        label: code === "forbidden" ? "See the product and buy it" : "Go to the product's page",
      }
    : null;
  const again = retry ? { href: retry, label: "Try again" } : null;
  const steps: (Step | null)[] =
    code === "unauthenticated"
      ? [signIn, store]
      : code === "forbidden" || code === "not_found"
        ? [product, library, store]
        : code === "gone"
          ? [
              product,
              { href: "/auth/login?next=/library", label: "Sign in for a fresh link" },
              store,
            ]
          : code === "rate_limited" || status >= 500
            ? [again, store]
            : [again, library, store];
  return steps.filter((step): step is Step => step !== null);
}

export function renderErrorPage(props: ErrorPageProps) {
  const title = TITLES[props.status] ?? "Something went wrong";
  const [first, ...rest] = nextSteps(props);
  return (
    <Layout title={title} {...props.page}>
      <div class="card" role="alert" style="max-width:560px">
        <h1>{title}</h1>
        <p>{props.message}</p>
        <p class="actions">
          {first ? (
            <a class="btn" href={first.href}>
              {first.label}
            </a>
          ) : null}
          {rest.map((step) => (
            <a class="btn secondary" href={step.href}>
              {step.label}
            </a>
          ))}
        </p>
        <p class="muted fine-print">
          Error {props.status}. If you write to the shop about it, mention reference{" "}
          <code>{props.requestId}</code>.
        </p>
      </div>
    </Layout>
  );
}
