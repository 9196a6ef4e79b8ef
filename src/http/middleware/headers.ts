import type { Context, MiddlewareHandler } from "hono";
import type { AppDeps, HonoEnv } from "../env.ts";

/**
 * The security headers of every answer, worked out once per app: a strict Content Security
 * Policy, no framing, no sniffing, HSTS, and a referrer policy that keeps same-origin Referers
 * (the CSRF check reads Origin) while giving other sites nothing.
 */
function securityHeaders(deps: AppDeps): Record<string, string> {
  // The seller's browser uploads large files straight to the bucket.
  const uploads = deps.store.directUploads ? ` ${deps.store.directUploads.origin}` : "";
  return {
    "Content-Security-Policy": `default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'${uploads}; frame-ancestors 'none'`,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Origin-Agent-Cluster": "?1",
    "Referrer-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-DNS-Prefetch-Control": "off",
    "X-Download-Options": "noopen",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
  };
}

/** Answers made whole by `wholeResponse`: the middleware leaves them as they are. */
const whole = new WeakSet<Response>();
export const isWhole = (res: Response) => whole.has(res);

/**
 * Adds the security headers and X-Request-Id to every answer after its route; a header the
 * route set itself (a page's stricter Referrer-Policy) is kept.
 */
export function responseHeaders(deps: AppDeps): MiddlewareHandler<HonoEnv> {
  const security = securityHeaders(deps);
  const names = Object.keys(security);
  return async (c, next) => {
    c.set("securityHeaders", security);
    await next();
    if (whole.has(c.res)) return;
    const headers = c.res.headers;
    for (const name of names) if (!headers.has(name)) headers.set(name, security[name] as string);
    const requestId = c.get("requestId");
    if (requestId) headers.set("X-Request-Id", requestId);
  };
}

/**
 * An answer built with every header at once, which nothing changes afterwards: on the hot paths
 * (a download's 302), setting headers one by one on a finished Response cost more than the
 * route's own work (docs/performance.md). An empty body rather than null lets Node's adapter
 * write it straight from this object.
 */
export function wholeResponse(
  c: Context<HonoEnv>,
  status: number,
  headers: Record<string, string>,
  body: BodyInit = "",
): Response {
  const res = new Response(body, {
    status,
    headers: { ...c.get("securityHeaders"), "X-Request-Id": c.get("requestId"), ...headers },
  });
  whole.add(res);
  return res;
}
