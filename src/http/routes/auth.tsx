import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { endSession } from "../../core/identity/sessions.ts";
import {
  completeSignIn,
  completeSignInWithCode,
  requestSignIn,
  type SignedIn,
  safeNextPath,
} from "../../core/identity/signIn.ts";
import { SignInPage } from "../../pages/auth.tsx";
import { isFormPost, readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { SESSION_COOKIE } from "../middleware/context.ts";

/** The sign-in page, the same for built-in and Supabase login. */
export function signInPage(c: Context<HonoEnv>) {
  return c.html(
    <SignInPage
      shopName={c.get("deps").settings.shopName}
      next={safeNextPath(c.req.query("next"))}
      sent={c.req.query("sent") ? (c.req.query("email") ?? "").slice(0, 254) : null}
    />,
  );
}

export const auth = new Hono<HonoEnv>()
  .get("/auth/login", signInPage)
  .post("/auth/login", async (c) => {
    const body = await readBody(c);
    const { email } = await requestSignIn({
      ctx: c.get("ctx"),
      input: { email: body.email, next: body.next, ip: c.get("deps").clientIp(c) },
    });
    if (isFormPost(c)) {
      const query = new URLSearchParams({ sent: "1", email });
      const next = safeNextPath(body.next);
      if (next) query.set("next", next);
      return c.redirect(`/auth/login?${query}`, 303);
    }
    return c.json(
      { ok: true, message: `We sent a sign-in link to ${email}. It expires in 15 minutes.` },
      202,
    );
  })
  .get("/auth/callback", async (c) => {
    const signedIn = await completeSignIn({
      ctx: c.get("ctx"),
      input: { token: c.req.query("token") },
    });
    startSession(c, signedIn);
    c.header("Referrer-Policy", "no-referrer");
    return c.redirect(signedIn.next ?? "/library", 303);
  })
  .post("/auth/code", async (c) => {
    const body = await readBody(c);
    const signedIn = await completeSignInWithCode({
      ctx: c.get("ctx"),
      input: { email: body.email, code: body.code, ip: c.get("deps").clientIp(c) },
    });
    startSession(c, signedIn);
    if (isFormPost(c))
      return c.redirect(safeNextPath(body.next) ?? signedIn.next ?? "/library", 303);
    return c.json({ ok: true, user: { id: signedIn.user.id, email: signedIn.user.email } });
  })
  .post("/auth/logout", async (c) => {
    await endSession(c.get("ctx"), c.get("sessionToken"));
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    if (isFormPost(c) || (c.req.header("accept") ?? "").includes("text/html"))
      return c.redirect("/", 303);
    return c.json({ ok: true });
  });

function startSession(c: Context<HonoEnv>, signedIn: SignedIn) {
  setCookie(c, SESSION_COOKIE, signedIn.sessionToken, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: c.get("deps").settings.publicUrl.startsWith("https:"),
    expires: new Date(signedIn.sessionExpiresAt),
  });
}
