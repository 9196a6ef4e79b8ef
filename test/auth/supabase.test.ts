import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type Harness, makeHarness } from "../support/harness.ts";
import { startSupabaseAuth } from "../support/supabase-server.ts";

type Auth = Awaited<ReturnType<typeof startSupabaseAuth>>;

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("Supabase login, asymmetric project", () => {
  let auth: Auth;
  let h: Harness;
  beforeAll(async () => {
    auth = await startSupabaseAuth();
    h = await makeHarness("sqlite", {
      AUTH: "supabase",
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: auth.anonKey,
    });
  });
  afterAll(async () => {
    await h.close();
    await auth.close().catch(() => {});
  });

  const me = async (init: RequestInit & { cookie?: string }) => {
    const res = await h.request("/api/me", init);
    return { status: res.status, body: await res.json() };
  };

  it("a valid access token as Bearer signs the user in, and their email's purchases are theirs", async () => {
    const { product } = await h.ownedProduct("member@example.com");
    const token = await auth.token({ email: "Member@Example.com" });
    expect(await me(bearer(token))).toMatchObject({
      status: 200,
      body: { user: { email: "member@example.com" } },
    });
    const library = await (await h.request("/api/library", bearer(token))).json();
    expect(library.items.map((i: { product: { slug: string } }) => i.product.slug)).toEqual([
      product.slug,
    ]);
  });

  it("the supabase-js session cookie works too, as JSON or base64, whole or in chunks", async () => {
    const token = await auth.token({ email: "cookie@example.com" });
    const session = JSON.stringify({
      access_token: token,
      refresh_token: "r",
      token_type: "bearer",
    });
    const name = "sb-127-auth-token";
    const b64 = `base64-${Buffer.from(session).toString("base64url")}`;
    for (const cookie of [
      `${name}=${encodeURIComponent(session)}`,
      `${name}=${b64}`,
      `${name}.0=${b64.slice(0, 40)}; ${name}.1=${b64.slice(40)}`,
    ]) {
      expect((await me({ cookie })).body.user?.email).toBe("cookie@example.com");
    }
    // A stale cookie is just "signed out", not an error page.
    expect(
      await me({
        cookie: `${name}=${encodeURIComponent(JSON.stringify({ access_token: "nonsense" }))}`,
      }),
    ).toMatchObject({
      status: 200,
      body: { user: null },
    });
  });

  it.each([
    ["alg none", async (a: Auth) => unsigned(await a.token())],
    ["HS256 where the JWKS is expected", (a: Auth) => a.token({}, { alg: "HS256" })],
    ["the anon key", (a: Auth) => a.anonKey],
    ["an expired token", (a: Auth) => a.token({}, { expiresIn: "-10s" })],
    ["a wrong issuer", (a: Auth) => a.token({ iss: "https://evil.supabase.co/auth/v1" })],
    ["a wrong audience", (a: Auth) => a.token({ aud: "anon" })],
    ["role anon", (a: Auth) => a.token({ role: "anon" })],
    ["an anonymous user", (a: Auth) => a.token({ is_anonymous: true })],
    ["no sub", (a: Auth) => a.token({ sub: undefined })],
    ["a changed payload", async (a: Auth) => tamper(await a.token())],
    ["garbage", async () => "not.a.jwt"],
  ])("refuses %s with 401", async (_name, make) => {
    const res = await h.request("/api/library", bearer(await make(auth)));
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe("unauthenticated");
  });

  it("a token signed with a new key (unknown kid) makes it fetch the JWKS again", async () => {
    const before = auth.jwksFetches();
    const kid = await auth.addKey();
    const token = await auth.token({ email: "rotated@example.com" }, { kid });
    expect((await me(bearer(token))).body.user?.email).toBe("rotated@example.com");
    expect(auth.jwksFetches()).toBeGreaterThan(before);
  });

  it("the admin token still works as a bearer token", async () => {
    expect((await h.request("/api/admin/products", bearer(ADMIN_TOKEN))).status).toBe(200);
  });

  it("a verified token is cached until it expires; an unverifiable one is a 503, never an accept", async () => {
    const token = await auth.token({ email: "cached@example.com" });
    const fresh = await auth.token({ email: "fresh@example.com" });
    expect((await me(bearer(token))).body.user?.email).toBe("cached@example.com");
    await auth.close();
    expect((await me(bearer(token))).body.user?.email).toBe("cached@example.com");
    const other = await makeHarness("sqlite", {
      AUTH: "supabase",
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: auth.anonKey,
    });
    try {
      const res = await other.request("/api/me", bearer(fresh));
      expect(res.status).toBe(503);
      expect((await res.json()).message).toMatch(/cannot be checked right now/);
    } finally {
      await other.close();
    }
  });
});

describe("Supabase login, legacy HS256 project", () => {
  let auth: Auth;
  let h: Harness;
  beforeAll(async () => {
    auth = await startSupabaseAuth({ legacy: true });
    h = await makeHarness("sqlite", {
      AUTH: "supabase",
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: auth.anonKey,
    });
  });
  afterAll(async () => {
    await h.close();
    await auth.close();
  });

  it("checks HS256 tokens by asking Supabase, and refuses the anon key and forged tokens", async () => {
    const token = await auth.token({ email: "legacy@example.com" });
    const ok = await (await h.request("/api/me", bearer(token))).json();
    expect(ok.user.email).toBe("legacy@example.com");
    expect((await h.request("/api/library", bearer(auth.anonKey))).status).toBe(401);
    const forged = await auth.token(
      { email: "forged@example.com" },
      { secret: new TextEncoder().encode("x".repeat(40)) },
    );
    expect((await h.request("/api/library", bearer(forged))).status).toBe(401);
  });
});

function unsigned(token: string): string {
  const [, payload] = token.split(".");
  const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
  return `${header}.${payload}.`;
}

function tamper(token: string): string {
  const [header, payload, sig] = token.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  claims.email = "attacker@example.com";
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${sig}`;
}
