import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { anonymous } from "../../core/context.ts";
import { timingSafeEqual, toBase64Url } from "../../core/encoding.ts";
import { forbidden } from "../../core/errors.ts";
import { requesters } from "../../core/identity/sessions.ts";
import { defaultShopProfile, readShopProfile } from "../../core/shop/profile.ts";
import type { AppDeps, HonoEnv } from "../env.ts";

/**
 * Builds the request's context once: a request id, the shop's profile, and the actor from the admin bearer token or
 * whoever the identity provider says the request's credentials belong to (a session cookie, or a
 * Supabase token as bearer or cookie). Admin rights come from the token, or from a signed-in
 * user whose verified email is in ADMIN_EMAILS.
 */
export function requestContext(deps: AppDeps): MiddlewareHandler<HonoEnv> {
  const requests = requesters();
  return async (c, next) => {
    const requestId =
      c.req.header("x-request-id")?.match(/^[\w-]{8,64}$/)?.[0] ??
      toBase64Url(deps.crypto.randomBytes(9));
    c.set("requestId", requestId);
    c.set("deps", deps);

    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const tokenAdmin = Boolean(
      bearer && deps.adminToken && timingSafeEqual(bearer, deps.adminToken),
    );
    const { user, session } = await requests.whoIs({
      ctx: { ...deps, actor: anonymous },
      input: { bearer: (!tokenAdmin && bearer) || null, cookies: cookiesOf(c) },
    });
    c.set("sessionToken", session);
    const admin = tokenAdmin || Boolean(user && deps.settings.adminEmails.includes(user.email));
    const ctx = { ...deps, actor: { user, admin } };
    c.set("ctx", ctx);
    // Kept a second per process: a map lookup on most requests. Pages still render when the
    // database cannot be read (the error page says so), under the configured name.
    c.set(
      "shop",
      await readShopProfile(ctx).catch(() => defaultShopProfile(deps.settings.shopName)),
    );
    await next();
  };
}

/**
 * The request's cookies, parsed once per distinct Cookie header: a browser sends the same one
 * with every request of a visit, and parsing it showed in every signed-in download's profile.
 */
const parsedCookies = new Map<string, Record<string, string>>();
function cookiesOf(c: Context<HonoEnv>): Record<string, string> {
  const header = c.req.header("cookie");
  if (!header) return {};
  let cookies = parsedCookies.get(header);
  if (!cookies) {
    cookies = Object.freeze(getCookie(c));
    if (parsedCookies.size >= 1000) parsedCookies.clear();
    if (header.length <= 4096) parsedCookies.set(header, cookies);
  }
  return cookies;
}

/**
 * Same-origin check for state-changing requests. A browser always sends Origin (or
 * Sec-Fetch-Site) on them; a cross-site one is refused. It applies to requests that ride on the
 * session cookie, and to the sign-in posts with or without one: another site must not sign a
 * visitor in to an account of its choosing (login CSRF), nor ask for or guess codes in their
 * name. Requests without either header (curl, scripts, the CLI, API clients) are not a browser
 * acting for someone else, and pass.
 */
export function sameOrigin(publicUrl: string): MiddlewareHandler<HonoEnv> {
  const ours = new URL(publicUrl).origin;
  // The bounced-receipt correction mails a sign-in link too.
  const signInPosts = new Set(["/auth/login", "/auth/code", "/checkout/correct-email"]);
  return async (c, next) => {
    const signIn = c.req.method === "POST" && signInPosts.has(c.req.path);
    if (!/^(GET|HEAD|OPTIONS)$/.test(c.req.method) && (signIn || c.get("sessionToken"))) {
      // Sec-Fetch-Site is the browser's own verdict; Origin is the fallback for older browsers
      // ("null" when a page's referrer policy hides it, which we cannot vouch for).
      const site = c.req.header("sec-fetch-site");
      const origin = c.req.header("origin");
      const crossOrigin = site
        ? site !== "same-origin" && site !== "none"
        : origin !== undefined && origin !== ours && origin !== new URL(c.req.url).origin;
      if (crossOrigin)
        throw forbidden(
          signIn
            ? "This sign-in request came from another site and was refused. Sign in from this shop's own sign-in page."
            : "This request came from another site and was refused.",
        );
    }
    await next();
  };
}
