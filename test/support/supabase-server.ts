import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from "jose";
import { freePort } from "./server.ts";

/**
 * A local stand-in for a Supabase project's auth endpoints, shaped like Supabase's: the JWKS
 * (asymmetric projects) or an empty one plus `GET /auth/v1/user` (legacy HS256 projects).
 */
export async function startSupabaseAuth(opts: { legacy?: boolean } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const issuer = `${url}/auth/v1`;
  const hsSecret = new TextEncoder().encode("legacy-project-jwt-secret-0123456789abcdef");
  const keys: { kid: string; privateKey: CryptoKey; jwk: JWK }[] = [];
  let jwksFetches = 0;
  /** While set, the JWKS answers this status (an outage behind Supabase's own front door). */
  let jwksOutage: number | null = null;

  async function addKey() {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const kid = randomUUID();
    keys.push({
      kid,
      privateKey,
      jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" },
    });
    return kid;
  }
  if (!opts.legacy) await addKey();

  /** Sign-in emails Supabase "sent": the code and the link's token hash for each. */
  const sent: { email: string; redirectTo: string | undefined; code: string; tokenHash: string }[] =
    [];
  const sessionFor = async (email: string) => ({
    access_token: await token({ email }),
    refresh_token: randomUUID(),
    expires_in: 3600,
    token_type: "bearer",
  });

  const app = new Hono()
    .post("/auth/v1/otp", async (c) => {
      const { email } = await c.req.json<{ email: string }>();
      sent.push({
        email,
        redirectTo: c.req.query("redirect_to"),
        code: String(100000 + sent.length),
        tokenHash: randomUUID(),
      });
      return c.json({});
    })
    .post("/auth/v1/verify", async (c) => {
      const body = await c.req.json<{ email?: string; token?: string; token_hash?: string }>();
      const match = sent.find((s) =>
        body.token_hash
          ? s.tokenHash === body.token_hash
          : s.email === body.email && s.code === body.token,
      );
      if (!match)
        return c.json(
          { code: 403, error_code: "otp_expired", msg: "Token has expired or is invalid" },
          403,
        );
      sent.splice(sent.indexOf(match), 1);
      return c.json(await sessionFor(match.email));
    })
    .get("/auth/v1/.well-known/jwks.json", (c) => {
      jwksFetches++;
      if (jwksOutage !== null)
        return c.text("upstream unavailable", jwksOutage as ContentfulStatusCode);
      return c.json({ keys: keys.map((k) => k.jwk) });
    })
    .get("/auth/v1/user", async (c) => {
      const token = c.req.header("authorization")?.replace(/^Bearer /, "") ?? "";
      try {
        const { payload } = await jwtVerify(token, hsSecret, { issuer, audience: "authenticated" });
        if (!payload.sub)
          return c.json({ code: 403, msg: "invalid claim: missing sub claim" }, 403);
        return c.json({
          id: payload.sub,
          email: payload.email,
          is_anonymous: payload.is_anonymous ?? false,
          role: payload.role,
        });
      } catch {
        return c.json({ code: 401, msg: "invalid JWT" }, 401);
      }
    });
  const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });

  /** A Supabase-shaped access token; override any claim or header to make a bad one. */
  async function token(
    claims: Record<string, unknown> = {},
    opts: { alg?: "ES256" | "HS256"; kid?: string; expiresIn?: string; secret?: Uint8Array } = {},
  ) {
    const alg = opts.alg ?? (keys.length ? "ES256" : "HS256");
    const jwt = new SignJWT({
      role: "authenticated",
      email: "member@example.com",
      is_anonymous: false,
      aal: "aal1",
      session_id: randomUUID(),
      ...claims,
    })
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? "1h");
    if (!("sub" in claims)) jwt.setSubject(randomUUID());
    if (!("iss" in claims)) jwt.setIssuer(issuer);
    if (!("aud" in claims)) jwt.setAudience("authenticated");
    if (alg === "HS256")
      return jwt.setProtectedHeader({ alg, typ: "JWT" }).sign(opts.secret ?? hsSecret);
    const key = opts.kid ? keys.find((k) => k.kid === opts.kid) : keys[keys.length - 1];
    if (!key) throw new Error("no such key");
    return jwt.setProtectedHeader({ alg, kid: key.kid, typ: "JWT" }).sign(key.privateKey);
  }

  /** Supabase's public anon key: itself an HS256 JWT, role anon, no sub. */
  const anonKey = await new SignJWT({ role: "anon", iss: "supabase" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("10y")
    .sign(hsSecret);

  return {
    url,
    anonKey,
    token,
    addKey,
    jwksFetches: () => jwksFetches,
    /** Makes the JWKS answer `status` (e.g. 503) until called with null. */
    failJwks: (status: number | null) => {
      jwksOutage = status;
    },
    sent,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
