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

describe("Supabase sign-in pages (no client JavaScript needed)", () => {
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
    await auth.close();
  });
  const post = (path: string, body: unknown) =>
    h.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const cookieOf = (res: Response) => (res.headers.get("set-cookie") ?? "").split(";")[0] as string;

  it("POST /auth/login asks Supabase to send the email; the code signs in and sets the supabase-js cookie", async () => {
    expect((await post("/auth/login", { email: "Otp@Example.com" })).status).toBe(202);
    const mail = auth.sent.at(-1);
    expect(mail).toMatchObject({
      email: "otp@example.com",
      redirectTo: "http://shop.test/auth/callback",
    });
    expect((await post("/auth/code", { email: "otp@example.com", code: "999999" })).status).toBe(
      400,
    );
    const ok = await post("/auth/code", { email: "otp@example.com", code: mail?.code });
    expect(ok.status).toBe(200);
    const cookie = cookieOf(ok);
    expect(cookie).toMatch(/^sb-127-auth-token=base64-/);
    expect((await (await h.request("/api/me", { cookie })).json()).user.email).toBe(
      "otp@example.com",
    );
    const out = await h.request("/auth/logout", {
      method: "POST",
      cookie,
      headers: { origin: "http://shop.test" },
    });
    expect(out.headers.get("set-cookie")).toMatch(/sb-127-auth-token=;/);
  });

  it("uses the built-in sign-in limits: plus-addresses share one mailbox, and wrong codes stop every code for the day", async () => {
    const statuses: number[] = [];
    for (const email of [
      "sb+1@example.com",
      "SB+2@Example.com",
      "sb@example.com",
      "sb+3@example.com",
      "Sb@example.com",
      "sb+4@example.com",
    ])
      statuses.push((await post("/auth/login", { email })).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);

    const mail = auth.sent.findLast((m) => m.email === "sb+3@example.com");
    const guesses: number[] = [];
    for (const email of ["sb+3@example.com", "SB@example.com", "sb+1@example.com"])
      for (let i = 0; i < 2; i++)
        guesses.push((await post("/auth/code", { email, code: "999999" })).status);
    expect(guesses).toEqual([400, 400, 400, 400, 400, 429]);
    const right = await post("/auth/code", { email: "sb+3@example.com", code: mail?.code });
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("refuses sign-in posts from another site without asking Supabase", async () => {
    const before = auth.sent.length;
    for (const path of ["/auth/login", "/auth/code"]) {
      const res = await h.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", "sec-fetch-site": "cross-site" },
        body: JSON.stringify({ email: "csrf@example.com", code: "100000" }),
      });
      expect(res.status).toBe(403);
      expect((await res.json()).message).toMatch(/came from another site/);
    }
    expect(auth.sent.length).toBe(before);
  });

  it("the magic link's token hash is traded for a session on the server; a fragment link gets the small script", async () => {
    await post("/auth/login", { email: "link@example.com" });
    const mail = auth.sent.at(-1);
    const res = await h.request(`/auth/callback?token_hash=${mail?.tokenHash}&type=email`);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/library");
    expect((await (await h.request("/api/me", { cookie: cookieOf(res) })).json()).user.email).toBe(
      "link@example.com",
    );
    expect(
      (await h.request(`/auth/callback?token_hash=${mail?.tokenHash}&type=email`)).status,
    ).toBe(400);
    const page = await (
      await h.request("/auth/callback", { headers: { accept: "text/html" } })
    ).text();
    expect(page).toContain('data-cookie="sb-127-auth-token"');
    expect(page).toContain("/assets/supabase-callback.js");
  });
});
