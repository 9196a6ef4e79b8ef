import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { type Harness, makeHarness } from "../support/harness.ts";
import { startSupabaseAuth } from "../support/supabase-server.ts";

type Auth = Awaited<ReturnType<typeof startSupabaseAuth>>;

const MINUTE = 60_000;
const COOKIE = "sb-127-auth-token";
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const cookie = (token: string) =>
  `${COOKIE}=${encodeURIComponent(JSON.stringify({ access_token: token }))}`;

/**
 * Issue 12, item 6: while Supabase cannot be reached, a buyer with a Supabase token is neither
 * signed out (401) nor let in unchecked: 503 with Retry-After, unless we already hold the key
 * that signed their token, which keeps working however long the outage lasts.
 */
describe("Supabase outage", () => {
  const open: (Harness | Auth)[] = [];
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    for (const thing of open) await thing.close().catch(() => {});
  });

  async function shop(): Promise<{ auth: Auth; h: Harness }> {
    const auth = await startSupabaseAuth();
    const h = await makeHarness("sqlite", {
      AUTH: "supabase",
      SUPABASE_URL: auth.url,
      SUPABASE_ANON_KEY: auth.anonKey,
    });
    open.push(h, auth);
    return { auth, h };
  }
  const me = async (h: Harness, init: RequestInit & { cookie?: string }) => {
    const res = await h.request("/api/me", init);
    return { res, body: await res.json() };
  };
  const expectUnavailable = async (res: Response) => {
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    return res;
  };

  it("no key held and the JWKS server down: 503 with Retry-After for a bearer token and for the cookie, never 401", async () => {
    const { auth, h } = await shop();
    const token = await auth.token({ email: "down@example.com" });
    await auth.close();

    const api = await me(h, { headers: bearer(token) });
    await expectUnavailable(api.res);
    expect(api.body).toMatchObject({ code: "unavailable" });
    expect(api.body.message).toMatch(/cannot be checked right now/);
    await expectUnavailable((await me(h, { cookie: cookie(token) })).res);
    // A person's page says so too, rather than showing them signed out.
    const page = await h.request("/library", {
      cookie: cookie(token),
      headers: { accept: "text/html" },
    });
    await expectUnavailable(page);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("no key held and the JWKS answering 503 (an outage behind Supabase's front door): 503 with Retry-After, then signed in once it answers again", async () => {
    const { auth, h } = await shop();
    auth.failJwks(503);
    const token = await auth.token({ email: "flaky@example.com" });
    const first = await me(h, { headers: bearer(token) });
    await expectUnavailable(first.res);
    await expectUnavailable((await me(h, { cookie: cookie(token) })).res);
    // Within Retry-After, requests are answered without asking Supabase again each time.
    const fetches = auth.jwksFetches();
    for (let i = 0; i < 5; i++)
      await expectUnavailable((await me(h, { headers: bearer(token) })).res);
    expect(auth.jwksFetches()).toBe(fetches);

    auth.failJwks(null);
    h.clock.advance(Number(first.res.headers.get("retry-after")) * 1000);
    expect((await me(h, { headers: bearer(token) })).body.user?.email).toBe("flaky@example.com");
    expect((await me(h, { cookie: cookie(token) })).body.user?.email).toBe("flaky@example.com");
  });

  it("a key set fetched once keeps verifying the tokens its keys sign while Supabase is down, long past any cache age", async () => {
    const { auth, h } = await shop();
    expect(
      (await me(h, { headers: bearer(await auth.token({ email: "first@example.com" })) })).body.user
        ?.email,
    ).toBe("first@example.com");

    // Supabase's front door answers 503 for a while, then the server is gone altogether; the
    // shop's clock and the system's (which jose's own cache reads) move on by hours.
    const later = async (ms: number) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + ms);
      h.clock.advance(ms);
    };
    auth.failJwks(503);
    await later(11 * MINUTE);
    const during = await auth.token({ email: "during@example.com" });
    expect((await me(h, { headers: bearer(during) })).body.user?.email).toBe("during@example.com");

    await auth.close();
    for (const hours of [1, 6]) {
      await later(hours * 60 * MINUTE);
      const fresh = await auth.token({ email: `after-${hours}h@example.com` });
      expect((await me(h, { headers: bearer(fresh) })).body.user?.email).toBe(
        `after-${hours}h@example.com`,
      );
      expect((await me(h, { cookie: cookie(fresh) })).body.user?.email).toBe(
        `after-${hours}h@example.com`,
      );
    }

    // A token whose key we do not hold may be signed by a key Supabase rotated in: we cannot
    // tell while it is down, so 503, neither an accept nor "signed out".
    const rotated = await auth.token(
      { email: "rotated@example.com" },
      { kid: await auth.addKey() },
    );
    await expectUnavailable((await me(h, { headers: bearer(rotated) })).res);
    // Bad tokens stay bad: a changed signature is still a 401.
    const bad = `${during.slice(0, -4)}${during.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    expect((await me(h, { headers: bearer(bad) })).res.status).toBe(401);
  });
});
