import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { AppError, unauthenticated } from "../../core/errors.ts";

export interface SupabaseUser {
  id: string;
  email: string;
}

export interface SupabaseVerifier {
  /** The user a Supabase access token belongs to; throws unauthenticated, or unavailable (503). */
  verify(token: string): Promise<SupabaseUser>;
  /** Name of the cookie supabase-js keeps the session in: `sb-<project ref>-auth-token`. */
  readonly cookieName: string;
}

const CACHE_LIMIT = 10_000;
/** The key set is fetched again this often while Supabase answers. */
const KEYS_REFRESH_MS = 10 * 60_000;
/**
 * After a failed fetch, none is tried for this long, and clients are told to retry after it: one
 * request in this long waits for an unreachable Supabase (5 s at most), not every request.
 */
const RETRY_AFTER_FAILURE_MS = 10_000;
/** A kid we have not seen fetches the key set at most this often. */
const KID_RELOAD_INTERVAL_MS = 10_000;

/**
 * Supabase access tokens (DESIGN section 9). Asymmetric projects: verified with jose against the
 * project's JWKS, ES256/RS256 only, the algorithm never chosen by the token; `iss` exact, `aud`
 * and `role` authenticated, `exp`, a `sub`, no anonymous users. A legacy HS256 project (its JWKS
 * has no keys) is checked by asking Supabase (`GET /auth/v1/user`), because its public anon key is
 * itself an HS256 JWT. JWKS unreachable is a 503 with Retry-After, never an unverified accept nor a
 * 401 (the buyer is not signed out by an outage); a key set fetched once keeps verifying the tokens
 * its keys signed while Supabase is down. Verified tokens are cached until they expire.
 */
export function supabaseVerifier(opts: {
  url: string;
  anonKey: string;
  now?: () => number;
  fetch?: typeof fetch;
}): SupabaseVerifier {
  const base = opts.url.replace(/\/+$/, "");
  const issuer = `${base}/auth/v1`;
  const jwksUrl = new URL(`${issuer}/.well-known/jwks.json`);
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  // The key set is fetched once and then kept: jose neither expires it (cacheMaxAge) nor
  // refetches on its own when a kid is missing (cooldownDuration); `keys` below decides when to
  // fetch again, on our clock, so a Supabase outage cannot take away keys we already hold.
  const remote = createRemoteJWKSet(jwksUrl, {
    timeoutDuration: 5_000,
    cacheMaxAge: Number.POSITIVE_INFINITY,
    cooldownDuration: Number.POSITIVE_INFINITY,
  });
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastForcedReload = Number.NEGATIVE_INFINITY;
  const keysUnreachable = () =>
    unreachable(
      "Sign-in cannot be checked right now (Supabase keys unreachable). Please try again shortly.",
      Math.ceil((failedAt + RETRY_AFTER_FAILURE_MS - now()) / 1000),
    );
  /** Fetches the key set again unless a fetch failed moments ago; false when it could not. */
  const refresh = async (): Promise<boolean> => {
    if (now() - failedAt < RETRY_AFTER_FAILURE_MS) return false;
    try {
      await remote.reload();
      fetchedAt = now();
      return true;
    } catch {
      // Unreachable, timed out, not 200 (an outage behind Supabase's front door), or not a key
      // set: all mean "cannot check now", never "this token is bad". The old keys stay.
      failedAt = now();
      return false;
    }
  };
  // The keys are refreshed every 10 minutes, and at once for a kid we have not seen (Supabase
  // rotated its keys), but at most once every 10 seconds, so forged kids cannot make us hammer
  // Supabase. While Supabase is unreachable the keys we hold keep verifying the tokens they
  // signed; a token we hold no key for is a 503 then, since its key may be a new one.
  const keys: JWTVerifyGetKey = async (header, token) => {
    if (now() - fetchedAt > KEYS_REFRESH_MS) await refresh();
    if (!remote.jwks()) throw keysUnreachable();
    try {
      return await remote(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (now() - lastForcedReload > KID_RELOAD_INTERVAL_MS) {
        lastForcedReload = now();
        if (await refresh()) return remote(header, token);
      }
      if (now() - failedAt < RETRY_AFTER_FAILURE_MS) throw keysUnreachable();
      throw error;
    }
  };
  const cache = new Map<string, { user: SupabaseUser; expiresAt: number }>();
  let legacy: boolean | null = null;

  const invalid = () =>
    unauthenticated("Your sign-in is not valid or has expired. Please sign in again.");

  async function isLegacyProject(): Promise<boolean> {
    if (legacy !== null) return legacy;
    try {
      const res = await doFetch(jwksUrl, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
      const body = (await res.json()) as { keys?: unknown[] };
      legacy = !body.keys?.length;
      return legacy;
    } catch {
      throw unreachable(
        "Sign-in cannot be checked right now (Supabase keys unreachable). Please try again shortly.",
      );
    }
  }

  function userFrom(claims: JWTPayload & Record<string, unknown>): SupabaseUser {
    if (claims.role !== "authenticated" || claims.is_anonymous === true) throw invalid();
    if (typeof claims.sub !== "string" || !claims.sub) throw invalid();
    if (typeof claims.email !== "string" || !claims.email) throw invalid();
    return { id: claims.sub, email: claims.email.toLowerCase() };
  }

  async function verifyAsymmetric(token: string): Promise<{ user: SupabaseUser; exp: number }> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience: "authenticated",
        algorithms: ["ES256", "RS256"],
        requiredClaims: ["exp", "sub"],
        currentDate: new Date(now()),
      });
      return { user: userFrom(payload), exp: (payload.exp as number) * 1000 };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof errors.JWKSTimeout || isNetworkError(error)) throw keysUnreachable();
      throw invalid();
    }
  }

  async function verifyLegacy(token: string): Promise<{ user: SupabaseUser; exp: number }> {
    let res: Response;
    try {
      res = await doFetch(`${issuer}/user`, {
        headers: { apikey: opts.anonKey, authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5_000),
      });
    } catch {
      throw unreachable(
        "Sign-in cannot be checked right now (Supabase unreachable). Please try again shortly.",
      );
    }
    if (res.status >= 500)
      throw unreachable("Sign-in cannot be checked right now. Please try again shortly.");
    if (!res.ok) throw invalid();
    const body = (await res.json()) as {
      id?: string;
      email?: string;
      is_anonymous?: boolean;
      role?: string;
    };
    if (!body.id || !body.email || body.is_anonymous) throw invalid();
    // The token's own exp bounds how long we trust Supabase's answer.
    const exp = expOf(token);
    if (!exp || exp <= now()) throw invalid();
    return { user: { id: body.id, email: body.email.toLowerCase() }, exp };
  }

  return {
    cookieName: `sb-${new URL(base).hostname.split(".")[0]}-auth-token`,
    async verify(token) {
      const cached = cache.get(token);
      if (cached && cached.expiresAt > now()) return cached.user;
      if (cached) cache.delete(token);
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw invalid();
      }
      let verified: { user: SupabaseUser; exp: number };
      if (alg === "HS256") {
        if (!(await isLegacyProject())) throw invalid();
        verified = await verifyLegacy(token);
      } else if (alg === "ES256" || alg === "RS256") {
        verified = await verifyAsymmetric(token);
      } else {
        throw invalid();
      }
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(token, { user: verified.user, expiresAt: verified.exp });
      return verified.user;
    },
  };
}

/** A 503 with Retry-After: Supabase could not be asked, so the token is neither good nor bad. */
function unreachable(message: string, retryAfterSeconds = RETRY_AFTER_FAILURE_MS / 1000): AppError {
  const seconds = Number.isFinite(retryAfterSeconds) ? Math.max(1, retryAfterSeconds) : 1;
  return new AppError("unavailable", message, { retryAfterSeconds: seconds });
}

function expOf(token: string): number | null {
  try {
    const payload = JSON.parse(
      new TextDecoder().decode(base64UrlDecode(token.split(".")[1] ?? "")),
    ) as { exp?: number };
    return typeof payload.exp === "number" ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

function base64UrlDecode(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function isNetworkError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    (error instanceof Error && /fetch failed|ECONNREFUSED|network/i.test(error.message))
  );
}

/**
 * The access token in supabase-js's session cookie: JSON, or `base64-` + base64url JSON, possibly
 * split over `<name>.0`, `<name>.1`, ... chunks.
 */
export function accessTokenFromCookies(
  cookies: Record<string, string>,
  name: string,
): string | null {
  let raw = cookies[name];
  if (raw === undefined) {
    const chunks: string[] = [];
    for (let i = 0; cookies[`${name}.${i}`] !== undefined; i++)
      chunks.push(cookies[`${name}.${i}`] as string);
    if (!chunks.length) return null;
    raw = chunks.join("");
  }
  try {
    const text = raw.startsWith("base64-")
      ? new TextDecoder().decode(base64UrlDecode(raw.slice(7)))
      : decodeURIComponent(raw);
    const value = JSON.parse(text) as { access_token?: unknown } | unknown[];
    const token = Array.isArray(value) ? value[0] : value.access_token;
    return typeof token === "string" ? token : null;
  } catch {
    return null;
  }
}
