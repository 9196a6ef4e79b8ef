import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { type SupabaseSession, sessionCookieValue } from "../../adapters/auth-supabase/api.ts";
import { normalizeEmail } from "../../core/context.ts";
import {
  codeSignInSchema,
  emailSchema,
  limitSignInRequest,
  safeNextPath,
  withCodeGuessLimit,
} from "../../core/identity/signIn.ts";
import { parseInput } from "../../core/validate.ts";
import { SupabaseCallbackPage } from "../../pages/auth.tsx";
import { isFormPost, readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { signInPage } from "./auth.tsx";

/**
 * Sign-in when AUTH=supabase: the same pages and endpoints as the built-in login, with Supabase
 * sending the email and issuing the session. The session lands in the cookie supabase-js uses
 * (`sb-<ref>-auth-token`), which the request context verifies on every request.
 */
export const authSupabase = new Hono<HonoEnv>()
  .get("/auth/login", signInPage)
  .post("/auth/login", async (c) => {
    const { ctx, deps, supabase } = parts(c);
    const body = await readBody(c);
    const email = normalizeEmail(
      parseInput(z.object({ email: emailSchema }), { email: body.email }).email,
    );
    await limitSignInRequest(ctx, { email, ip: deps.clientIp(c) });
    await supabase.api.sendSignIn(email, `${deps.settings.publicUrl}/auth/callback`);
    if (isFormPost(c))
      return c.redirect(`/auth/login?${new URLSearchParams({ sent: "1", email })}`, 303);
    return c.json({ ok: true, message: `We sent a sign-in link to ${email}.` }, 202);
  })
  .get("/auth/callback", async (c) => {
    const { supabase } = parts(c);
    c.header("Referrer-Policy", "no-referrer");
    const tokenHash = c.req.query("token_hash");
    if (tokenHash) {
      const session = await supabase.api.verifyTokenHash(tokenHash, c.req.query("type") ?? "email");
      keepSession(c, session);
      return c.redirect("/library", 303);
    }
    // Supabase's default link puts the session in the URL fragment, which only the browser sees.
    return c.html(
      <SupabaseCallbackPage
        shopName={c.get("deps").settings.shopName}
        cookieName={supabase.verifier.cookieName}
        secure={isHttps(c)}
      />,
    );
  })
  .post("/auth/code", async (c) => {
    const { ctx, deps, supabase } = parts(c);
    const body = await readBody(c);
    const input = parseInput(codeSignInSchema, body);
    const email = normalizeEmail(input.email);
    const session = await withCodeGuessLimit(ctx, { email, ip: deps.clientIp(c) }, () =>
      supabase.api.verifyCode(email, input.code),
    );
    keepSession(c, session);
    if (isFormPost(c)) return c.redirect(safeNextPath(body.next) ?? "/library", 303);
    return c.json({ ok: true });
  })
  .post("/auth/logout", (c) => {
    const name = parts(c).supabase.verifier.cookieName;
    for (const cookie of Object.keys(getCookie(c))) {
      if (cookie === name || cookie.startsWith(`${name}.`)) deleteCookie(c, cookie, { path: "/" });
    }
    if (isFormPost(c) || (c.req.header("accept") ?? "").includes("text/html"))
      return c.redirect("/", 303);
    return c.json({ ok: true });
  });

function parts(c: Context<HonoEnv>) {
  const deps = c.get("deps");
  if (!deps.supabase) throw new Error("Supabase routes without Supabase configured");
  return { ctx: c.get("ctx"), deps, supabase: deps.supabase };
}

const isHttps = (c: Context<HonoEnv>) => c.get("deps").settings.publicUrl.startsWith("https:");

function keepSession(c: Context<HonoEnv>, session: SupabaseSession) {
  const { deps, supabase } = parts(c);
  setCookie(c, supabase.verifier.cookieName, sessionCookieValue(session, deps.clock.now()), {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    maxAge: 400 * 86400,
  });
}
