import { AppError } from "../../core/errors.ts";
import type { Identity, SignInProof } from "../../core/ports.ts";
import { type SupabaseSession, sessionCookieValue, supabaseAuthApi } from "./api.ts";
import { accessTokenFromCookies, supabaseVerifier } from "./verifier.ts";

/**
 * Sign-in with Supabase Auth (AUTH=supabase, decision 0003): Supabase sends the email and issues
 * the session, kept in the cookie supabase-js uses (`sb-<project ref>-auth-token`); a request is
 * whoever its Supabase access token says, from the bearer header or that cookie, verified on
 * every request (verifier.ts).
 */
export function supabaseIdentity(opts: {
  url: string;
  anonKey: string;
  /** Where the sign-in link leads back to: `<PUBLIC_URL>/auth/callback`. */
  publicUrl: string;
  now: () => number;
  fetch?: typeof fetch;
}): Identity {
  const verifier = supabaseVerifier(opts);
  const api = supabaseAuthApi(opts);
  const name = verifier.cookieName;
  const keep = (session: SupabaseSession): SignInProof => ({
    cookie: { name, value: sessionCookieValue(session, opts.now()), maxAgeSeconds: 400 * 86400 },
  });

  return {
    async sendSignIn({ email }) {
      await api.sendSignIn(email, `${opts.publicUrl}/auth/callback`);
      return { minutes: null };
    },
    // `?token_hash=&type=` from the email template's server-side link; Supabase's default link
    // puts the session in the URL fragment instead.
    async redeemLink(query) {
      if (!query.token_hash) return { fragment: name };
      return keep(await api.verifyTokenHash(query.token_hash, query.type ?? "email"));
    },
    redeemCode: async ({ email, code }) => keep(await api.verifyCode(email, code)),

    async whoIs({ bearer, cookies }) {
      const session = accessTokenFromCookies(cookies, name);
      const token = bearer ?? session;
      let who = null;
      if (token)
        try {
          who = { ...(await verifier.verify(token)), provider: true };
        } catch (error) {
          // A stale cookie just means signed out; a bad bearer token, or Supabase down, is an error.
          if (token !== session || (error instanceof AppError && error.code === "unavailable"))
            throw error;
        }
      return { who, session };
    },

    // Nothing to end on our side: the cookie, whole or in chunks, is cleared.
    signOut: async (cookies) =>
      Object.keys(cookies).filter((cookie) => cookie === name || cookie.startsWith(`${name}.`)),
  };
}
