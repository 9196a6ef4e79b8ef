import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, type ErrorCode } from "../core/errors.ts";
import { renderErrorPage } from "../pages/errorPage.tsx";
import { renderPreparingPage } from "../pages/preparingPage.tsx";
import { renderConfirmItsYou } from "../pages/sharing.tsx";
import type { HonoEnv } from "./env.ts";
import { pageProps } from "./pageProps.ts";

/** Each error code's status: the answers' and the API reference's (openapi/document.ts). */
export const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  range_not_satisfiable: 416,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

const BY_STATUS: Record<number, ErrorCode> = Object.fromEntries(
  Object.entries(STATUS).map(([code, status]) => [status, code as ErrorCode]),
);

/** The one place errors become responses: `{ code, message, requestId }`, or a page for people. */
export function errorResponse(error: unknown, c: Context<HonoEnv>): Response | Promise<Response> {
  const requestId = c.get("requestId") ?? "";
  // The page for people: its props read from whatever of the request got set before it failed.
  const page = (status: ContentfulStatusCode, message: string, code?: string) =>
    c.html(
      renderErrorPage({
        page: pageProps(c),
        status,
        message,
        code,
        retry: c.req.method === "GET" ? c.req.url.slice(new URL(c.req.url).origin.length) : null,
        next: c.req.method === "GET" ? c.req.path : "/library",
        productSlug:
          /^\/(?:download|claim)\/([a-z0-9][a-z0-9-]*)(?:\/|$)/.exec(c.req.path)?.[1] ?? null,
        requestId,
      }),
      status,
    );
  let appError: AppError;
  if (error instanceof AppError) appError = error;
  else if (error instanceof HTTPException && error.status < 500) {
    const code = BY_STATUS[error.status] ?? "invalid_input";
    const message =
      error.status === 413
        ? "The request body is too large."
        : error.message || "The request could not be understood.";
    appError = new AppError(code, message);
  } else if (isConnectionFailure(error)) {
    // The database (or another backing service) is unreachable: a passing outage, not a bug.
    c.get("deps")?.log.error("backing service unreachable", {
      requestId,
      path: c.req.path,
      error: error instanceof Error ? error.message : String(error),
    });
    appError = new AppError(
      "unavailable",
      "The shop cannot reach its database right now. Please try again in a minute.",
      { retryAfterSeconds: 30 },
    );
  } else {
    c.get("deps")?.log.error("unhandled error", {
      requestId,
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    const body = {
      code: "internal",
      message: "Something went wrong on our side. Please try again.",
      requestId,
    };
    return wantsHtml(c) ? page(500, body.message) : c.json(body, 500);
  }
  const status = STATUS[appError.code];
  const retryAfter = appError.details?.retryAfterSeconds;
  if (typeof retryAfter === "number") c.header("Retry-After", String(retryAfter));
  if (appError.details?.preparing && typeof retryAfter === "number" && wantsHtml(c)) {
    // A stamped PDF not ready yet (decision 0026): a page that asks again by itself.
    const retry = c.req.url.slice(new URL(c.req.url).origin.length);
    c.header("Refresh", `${retryAfter};url=${retry}`);
    c.header("Cache-Control", "private, no-store");
    return c.html(
      renderPreparingPage({
        page: pageProps(c),
        message: appError.message,
        retry,
        seconds: retryAfter,
      }),
      status,
    );
  }
  const confirm = appError.details?.sharingConfirm as { request: string } | undefined;
  if (confirm && wantsHtml(c)) {
    // Sharing detection (decision 0028): a page that says why and offers the confirmation mail.
    const next = c.req.method === "GET" ? c.req.url.slice(new URL(c.req.url).origin.length) : null;
    return c.html(renderConfirmItsYou({ ...pageProps(c), request: confirm.request, next }), status);
  }
  if (wantsHtml(c)) return page(status, appError.message, appError.code);
  // A verb may name its own code and add facts a program acts on (a licence's "activation_limit").
  const answer = appError.details?.answer as Record<string, unknown> | undefined;
  return c.json(
    {
      code: appError.code,
      message: appError.message,
      requestId,
      ...(appError.details?.fields ? { fields: appError.details.fields } : {}),
      ...answer,
    },
    status,
  );
}

/** People get pages, programs get JSON: API paths always answer JSON. */
export function wantsHtml(c: Context): boolean {
  const path = c.req.path;
  if (path.startsWith("/api/") || path.startsWith("/webhooks/")) return false;
  return (c.req.header("accept") ?? "").includes("text/html");
}

/** Network errors and Postgres' "connection" class (08xxx) and shutdown codes (57P0x). */
const CONNECTION_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|08\w{3}|57P0[1-3])$/;
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === "string" && CONNECTION_CODES.test(code)) ||
    CONNECTION_MESSAGES.test(error.message)
  );
}
