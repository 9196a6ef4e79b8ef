import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { anonymous } from "../../core/context.ts";
import { timingSafeEqual, toBase64Url } from "../../core/encoding.ts";
import { userForSession } from "../../core/identity/sessions.ts";
import type { AppDeps, HonoEnv } from "../env.ts";

export const SESSION_COOKIE = "tg_session";

/**
 * Builds the request's context once: a request id, and the actor from the session cookie or the
 * admin bearer token. Admin rights come from the token, or from a session whose verified email
 * is in ADMIN_EMAILS.
 */
export function requestContext(deps: AppDeps): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const requestId =
      c.req.header("x-request-id")?.match(/^[\w-]{8,64}$/)?.[0] ??
      toBase64Url(deps.crypto.randomBytes(9));
    c.set("requestId", requestId);
    c.set("deps", deps);
    c.header("X-Request-Id", requestId);

    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const tokenAdmin = Boolean(
      bearer && deps.adminToken && timingSafeEqual(bearer, deps.adminToken),
    );
    const sessionToken = getCookie(c, SESSION_COOKIE);
    c.set("sessionToken", sessionToken);
    const base = { ...deps, actor: anonymous };
    const user = sessionToken ? await userForSession(base, sessionToken) : null;
    const admin = tokenAdmin || Boolean(user && deps.settings.adminEmails.includes(user.email));
    c.set("ctx", {
      ...deps,
      actor: { user: user ? { id: user.id, email: user.email } : null, admin },
    });
    await next();
  };
}

/**
 * Same-origin check for state-changing requests that ride on the session cookie. A browser
 * always sends Origin (or Sec-Fetch-Site) on such requests; a cross-site one is refused. Requests
 * without a session cookie carry no authority to forge.
 */
export function sameOrigin(publicUrl: string): MiddlewareHandler<HonoEnv> {
  const ours = new URL(publicUrl).origin;
  return async (c, next) => {
    if (!/^(GET|HEAD|OPTIONS)$/.test(c.req.method) && c.get("sessionToken")) {
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      const crossOrigin =
        origin !== undefined && origin !== ours && origin !== new URL(c.req.url).origin;
      if (crossOrigin || site === "cross-site" || site === "same-site") {
        return c.json(
          {
            code: "forbidden",
            message: "This request came from another site and was refused.",
            requestId: c.get("requestId"),
          },
          403,
        );
      }
    }
    await next();
  };
}
