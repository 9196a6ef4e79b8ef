import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { AppError } from "../../core/errors.ts";
import { signOut } from "../../core/identity/sessions.ts";
import {
  completeSignIn,
  completeSignInWithCode,
  requestSignIn,
  safeNextPath,
} from "../../core/identity/signIn.ts";
import type { SessionCookie } from "../../core/ports.ts";
import { SignInPage, SupabaseCallbackPage } from "../../pages/auth.tsx";
import { isFormPost, readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { STATUS, wantsHtml } from "../errors.ts";
import { pageProps } from "../pageProps.ts";

/**
 * Sign-in pages and endpoints, the same whichever identity provider runs (built-in or Supabase):
 * the core applies the rules and asks ctx.identity for the rest; the session lands in the cookie
 * the provider names.
 */
export const auth = new Hono<HonoEnv>()
  .get("/auth/login", (c) =>
    c.html(
      <SignInPage
        {...pageProps(c)}
        next={safeNextPath(c.req.query("next"))}
        sent={c.req.query("sent") ? (c.req.query("email") ?? "").slice(0, 254) : null}
      />,
    ),
  )
  .post("/auth/login", async (c) => {
    const body = await readBody(c);
    const requested = await orSignInAgain(
      c,
      { next: body.next, sent: null, email: body.email },
      requestSignIn({
        ctx: c.get("ctx"),
        input: { email: body.email, next: body.next, ip: c.get("deps").clientIp(c) },
      }),
    );
    if (requested instanceof Response) return requested;
    const { email, minutes } = requested;
    if (isFormPost(c)) {
      const query = new URLSearchParams({ sent: "1", email });
      const next = safeNextPath(body.next);
      if (next) query.set("next", next);
      return c.redirect(`/auth/login?${query}`, 303);
    }
    const expiry = minutes ? ` It expires in ${minutes} minutes.` : "";
    return c.json({ ok: true, message: `We sent a sign-in link to ${email}.${expiry}` }, 202);
  })
  .get("/auth/callback", async (c) => {
    c.header("Referrer-Policy", "no-referrer");
    const signedIn = await orSignInAgain(
      c,
      { next: null, sent: null },
      completeSignIn({ ctx: c.get("ctx"), input: c.req.query() }),
    );
    if (signedIn instanceof Response) return signedIn;
    // The link's proof is in the URL fragment, which only the browser sees (Supabase's default).
    if ("fragment" in signedIn)
      return c.html(
        <SupabaseCallbackPage
          shop={pageProps(c).shop}
          cookieName={signedIn.fragment}
          secure={isHttps(c)}
        />,
      );
    keepSession(c, signedIn.cookie);
    return c.redirect(signedIn.next ?? "/library", 303);
  })
  .post("/auth/code", async (c) => {
    const body = await readBody(c);
    const signedIn = await orSignInAgain(
      c,
      { next: body.next, sent: typeof body.email === "string" ? body.email : null },
      completeSignInWithCode({
        ctx: c.get("ctx"),
        input: { email: body.email, code: body.code, ip: c.get("deps").clientIp(c) },
      }),
    );
    if (signedIn instanceof Response) return signedIn;
    keepSession(c, signedIn.cookie);
    if (isFormPost(c))
      return c.redirect(safeNextPath(body.next) ?? signedIn.next ?? "/library", 303);
    const { user } = signedIn;
    return c.json({ ok: true, user: user ? { id: user.id, email: user.email } : undefined });
  })
  .post("/auth/logout", async (c) => {
    const cleared = await signOut({ ctx: c.get("ctx"), input: { cookies: getCookie(c) } });
    for (const name of cleared) deleteCookie(c, name, { path: "/" });
    if (isFormPost(c) || (c.req.header("accept") ?? "").includes("text/html"))
      return c.redirect("/", 303);
    return c.json({ ok: true });
  });

/**
 * A person whose sign-in step failed (a mistyped address or code, a spent link, too many tries)
 * gets the form back with the reason and the status, so the next try is on the same page; the
 * code form keeps the address. Programs get the usual error answer.
 */
async function orSignInAgain<T>(
  c: Context<HonoEnv>,
  form: { next: unknown; sent: string | null; email?: unknown },
  attempt: Promise<T>,
): Promise<T | Response> {
  try {
    return await attempt;
  } catch (error) {
    const person = c.req.method === "GET" ? wantsHtml(c) : isFormPost(c);
    if (!(error instanceof AppError) || !person) throw error;
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === "number") c.header("Retry-After", String(retryAfter));
    return c.html(
      <SignInPage
        {...pageProps(c)}
        next={safeNextPath(form.next)}
        sent={form.sent?.trim().slice(0, 254) || null}
        error={error.message}
        email={typeof form.email === "string" ? form.email.slice(0, 254) : undefined}
      />,
      STATUS[error.code],
    );
  }
}

const isHttps = (c: Context<HonoEnv>) => c.get("deps").settings.publicUrl.startsWith("https:");

function keepSession(c: Context<HonoEnv>, cookie: SessionCookie) {
  setCookie(c, cookie.name, cookie.value, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    maxAge: cookie.maxAgeSeconds,
    expires: cookie.expiresAt ? new Date(cookie.expiresAt) : undefined,
  });
}
