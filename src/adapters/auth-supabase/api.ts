import { invalidInput, unavailable } from "../../core/errors.ts";

export interface SupabaseSession {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  expires_at?: number;
  token_type: string;
}

/**
 * The few Supabase Auth (GoTrue) calls the server makes for the sign-in pages, so sign-in works
 * without client-side JavaScript: send the email (link and 6-digit code), and trade the code or
 * the link's token hash for a session.
 */
export function supabaseAuthApi(opts: { url: string; anonKey: string; fetch?: typeof fetch }) {
  const base = `${opts.url.replace(/\/+$/, "")}/auth/v1`;
  const doFetch = opts.fetch ?? fetch;

  async function call(path: string, body: unknown): Promise<Response> {
    try {
      return await doFetch(`${base}${path}`, {
        method: "POST",
        headers: { apikey: opts.anonKey, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      throw unavailable("Sign-in is not reachable right now. Please try again in a minute.");
    }
  }

  async function session(res: Response): Promise<SupabaseSession> {
    if (res.status >= 500)
      throw unavailable("Sign-in is not reachable right now. Please try again in a minute.");
    if (!res.ok)
      throw invalidInput("That code or link is not valid any more. Request a new sign-in email.");
    const body = (await res.json()) as Partial<SupabaseSession>;
    if (!body.access_token)
      throw unavailable("Sign-in answered without a session. Please try again.");
    return body as SupabaseSession;
  }

  return {
    async sendSignIn(email: string, redirectTo: string): Promise<void> {
      const res = await call(`/otp?redirect_to=${encodeURIComponent(redirectTo)}`, {
        email,
        create_user: true,
      });
      if (res.status === 429)
        throw invalidInput("Too many sign-in emails. Please wait a minute and try again.");
      if (res.status >= 500)
        throw unavailable("Sign-in is not reachable right now. Please try again in a minute.");
      if (!res.ok) throw invalidInput("That email address cannot receive a sign-in email.");
    },
    verifyCode: async (email: string, code: string) =>
      session(await call("/verify", { type: "email", email, token: code })),
    verifyTokenHash: async (tokenHash: string, type: string) =>
      session(await call("/verify", { type, token_hash: tokenHash })),
  };
}

export type SupabaseAuthApi = ReturnType<typeof supabaseAuthApi>;

/** The cookie value @supabase/ssr writes, so the browser's supabase-js and the server agree. */
export function sessionCookieValue(s: SupabaseSession, nowMs: number): string {
  const value = {
    access_token: s.access_token,
    refresh_token: s.refresh_token,
    expires_in: s.expires_in,
    expires_at: s.expires_at ?? Math.floor(nowMs / 1000) + s.expires_in,
    token_type: s.token_type ?? "bearer",
  };
  return `base64-${btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}
