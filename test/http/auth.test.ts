import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppError } from "../../src/core/errors.ts";
import { completeSignInWithCode, SIGN_IN_LIMITS } from "../../src/core/identity/signIn.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

/** A code that is surely not `code`. */
const wrongFor = (code: string) => (code === "000000" ? "111111" : "000000");

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

describe.each(dialects)("built-in sign-in on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  const linkIn = (text: string) => /\/auth\/callback\?token=[\w-]+/.exec(text)?.[0] as string;
  const codeIn = (text: string) => /code on the sign-in page: (\d{6})/.exec(text)?.[1] as string;

  it("mails a link and a code; the link signs in once, sets a safe cookie and returns to the asked page", async () => {
    const res = await h.request(
      "/auth/login",
      json({ email: " Ada@Example.COM ", next: "/library?x=1" }),
    );
    expect(res.status).toBe(202);
    const mail = await h.lastMailTo("ada@example.com");
    expect(mail.subject).toContain("sign-in link");
    expect(mail.html).toContain("Sign in");
    const link = linkIn(mail.text);

    const first = await h.request(link);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/library?x=1");
    const cookie = first.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^tg_session=tgs_[\w-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);

    const me = await (await h.request("/api/me", { cookie: cookie.split(";")[0] })).json();
    expect(me.user.email).toBe("ada@example.com");

    const again = await h.request(link, { headers: { accept: "text/html" } });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("expired or was already used");
  });

  it("a link opened after 15 minutes is refused", async () => {
    await h.request("/auth/login", json({ email: "late@example.com" }));
    const link = linkIn((await h.lastMailTo("late@example.com")).text);
    h.clock.advance(15 * 60_000 + 1000);
    const res = await h.request(link);
    expect(res.status).toBe(410);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("a forged or malformed link is refused the same way", async () => {
    for (const token of [`tgl_${"A".repeat(43)}`, "nonsense", ""]) {
      const res = await h.request(`/auth/callback?token=${token}`);
      expect(res.status).toBe(410);
      expect((await res.json()).code).toBe("gone");
    }
  });

  it("the code signs in once", async () => {
    await h.request("/auth/login", json({ email: "coder@example.com" }));
    const code = codeIn((await h.lastMailTo("coder@example.com")).text);
    const ok = await h.request("/auth/code", json({ email: "coder@example.com", code }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("set-cookie")).toMatch(/^tg_session=/);
    const reuse = await h.request("/auth/code", json({ email: "coder@example.com", code }));
    expect(reuse.status).toBe(410);
  });

  it("wrong codes from someone who knows only the email never spend the owner's link", async () => {
    await h.request("/auth/login", json({ email: "owner-link@example.com" }));
    const mail = (await h.lastMailTo("owner-link@example.com")).text;
    const wrong = wrongFor(codeIn(mail));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push(
        (await h.request("/auth/code", json({ email: "owner-link@example.com", code: wrong })))
          .status,
      );
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429]);
    const res = await h.request(linkIn(mail));
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toMatch(/^tg_session=/);
  });

  it("five wrong codes a day per mailbox, then every code is refused with Retry-After until the day is over", async () => {
    const email = "guesser@example.com";
    await h.request("/auth/login", json({ email }));
    const real = codeIn((await h.lastMailTo(email)).text);
    const wrong = wrongFor(real);
    // A right code does not use the allowance; only wrong ones do.
    for (let i = 0; i < 5; i++) {
      const res = await h.request("/auth/code", json({ email, code: wrong }));
      expect(res.status).toBe(400);
      expect((await res.json()).message).toMatch(/That code is not right/);
    }
    const limited = await h.request("/auth/code", json({ email, code: real }));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(23 * 3600);
    expect((await limited.json()).message).toMatch(/Use the link in the sign-in email/);

    h.clock.advance(12 * 3600_000);
    await h.request("/auth/login", json({ email }));
    const midday = codeIn((await h.lastMailTo(email)).text);
    expect((await h.request("/auth/code", json({ email, code: midday }))).status).toBe(429);

    h.clock.advance(12 * 3600_000 + 1000);
    await h.request("/auth/login", json({ email }));
    const tomorrow = codeIn((await h.lastMailTo(email)).text);
    expect((await h.request("/auth/code", json({ email, code: tomorrow }))).status).toBe(200);
  });

  it("right codes do not use up the allowance of wrong ones", async () => {
    const email = "regular@example.com";
    for (let i = 0; i < 4; i++) {
      await h.request("/auth/login", json({ email }));
      const code = codeIn((await h.lastMailTo(email)).text);
      expect((await h.request("/auth/code", json({ email, code: wrongFor(code) }))).status).toBe(
        400,
      );
      expect((await h.request("/auth/code", json({ email, code }))).status).toBe(200);
      h.clock.advance(15 * 60_000);
    }
  });

  it("plus-addresses and case are one mailbox for the sign-in and code limits, while the account keeps the address", async () => {
    const variants = ["pat+1@example.com", "PAT+2@Example.COM", "pat@example.com"];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await h.request("/auth/login", json({ email: variants[i % 3] }))).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);

    const codeOf = async (email: string) => codeIn((await h.lastMailTo(email)).text);
    const guesses: [string, string][] = [
      ["PAT+1@example.com", wrongFor(await codeOf("pat+1@example.com"))],
      ["pat+1@example.com", wrongFor(await codeOf("pat+1@example.com"))],
      ["pat+2@EXAMPLE.com", wrongFor(await codeOf("pat+2@example.com"))],
      ["Pat+2@example.com", wrongFor(await codeOf("pat+2@example.com"))],
      ["Pat@example.com", wrongFor(await codeOf("pat@example.com"))],
    ];
    for (const [email, code] of guesses)
      expect((await h.request("/auth/code", json({ email, code }))).status).toBe(400);
    const right = await codeOf("pat+2@example.com");
    const res = await h.request("/auth/code", json({ email: "pat+2@example.com", code: right }));
    expect(res.status).toBe(429);

    h.clock.advance(24 * 3600_000 + 1000);
    await h.request("/auth/login", json({ email: "Pat+2@Example.com" }));
    const fresh = await codeOf("pat+2@example.com");
    const ok = await h.request("/auth/code", json({ email: "Pat+2@Example.com", code: fresh }));
    expect(ok.status).toBe(200);
    expect((await ok.json()).user.email).toBe("pat+2@example.com");
  });

  it("limits code guesses per client address across mailboxes, before any mailbox is counted", async () => {
    const guess = (email: string, ip: string) =>
      completeSignInWithCode({ ctx: h.ctx, input: { email, code: "123456", ip } }).then(
        () => "signed in",
        (e: AppError) => e.code,
      );
    const results: string[] = [];
    // No code is pending for these mailboxes, so every guess is wrong (410), and still counted.
    for (let i = 0; i <= SIGN_IN_LIMITS.wrongCodesPerClient; i++)
      results.push(await guess(`spread${Math.floor(i / 4)}@example.com`, "203.0.113.7"));
    expect(results.slice(0, -1)).toEqual(Array(SIGN_IN_LIMITS.wrongCodesPerClient).fill("gone"));
    expect(results.at(-1)).toBe("rate_limited");
    expect(await guess("untouched@example.com", "203.0.113.7")).toBe("rate_limited");
    // The limited client used up nothing of this mailbox's allowance.
    const fromElsewhere: string[] = [];
    for (let i = 0; i <= SIGN_IN_LIMITS.wrongCodesPerMailbox; i++)
      fromElsewhere.push(await guess("untouched@example.com", "198.51.100.1"));
    expect(fromElsewhere).toEqual([
      ...Array(SIGN_IN_LIMITS.wrongCodesPerMailbox).fill("gone"),
      "rate_limited",
    ]);
  });

  it("refuses sign-in posts from other sites, cookie or not, and lets scripts without Origin through", async () => {
    const before = (await (await h.admin("/api/admin/outbox")).json()).messages.length;
    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site", origin: "https://sub.shop.test" },
      { origin: "null" },
    ];
    for (const headers of crossSite) {
      for (const [path, body] of [
        ["/auth/login", "email=csrf%40example.com"],
        ["/auth/code", "email=csrf%40example.com&code=123456"],
      ] as const) {
        const res = await h.request(path, {
          method: "POST",
          headers: {
            ...headers,
            "content-type": "application/x-www-form-urlencoded",
            accept: "text/html",
          },
          body,
        });
        expect(res.status).toBe(403);
        expect(res.headers.get("set-cookie")).toBeNull();
        expect(await res.text()).toContain("This sign-in request came from another site");
      }
    }
    expect((await (await h.admin("/api/admin/outbox")).json()).messages.length).toBe(before);

    // curl, the CLI, API clients: no Origin, no Sec-Fetch-Site.
    expect((await h.request("/auth/login", json({ email: "curl@example.com" }))).status).toBe(202);
    const code = codeIn((await h.lastMailTo("curl@example.com")).text);
    expect((await h.request("/auth/code", json({ email: "curl@example.com", code }))).status).toBe(
      200,
    );
    // Our own page, and a typed-in request.
    const ours: Record<string, string>[] = [
      { origin: "http://shop.test", "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
    ];
    for (const headers of ours) {
      const res = await h.request("/auth/login", {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
        body: "email=ours%40example.com",
      });
      expect(res.status).toBe(303);
    }
  });

  it("rate-limits sign-in mail per email and says when to retry", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await h.request("/auth/login", json({ email: "spam@example.com" }))).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    const limited = await h.request("/auth/login", json({ email: "spam@example.com" }));
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await limited.json()).message).toMatch(/Too many sign-in requests/);
    h.clock.advance(16 * 60_000);
    expect((await h.request("/auth/login", json({ email: "spam@example.com" }))).status).toBe(202);
  });

  it("refuses bad input without sending mail", async () => {
    const before = (await (await h.admin("/api/admin/outbox")).json()).messages.length;
    const cases: [RequestInit, number][] = [
      [json({ email: "not-an-email" }), 400],
      [json({}), 400],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: "{oops" }, 400],
      [
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "a@b.co", pad: "x".repeat(70_000) }),
        },
        413,
      ],
    ];
    for (const [init, status] of cases) {
      const res = await h.request("/auth/login", init);
      expect(res.status).toBe(status);
      const body = await res.json();
      expect(body).toEqual(
        expect.objectContaining({
          code: expect.any(String),
          message: expect.any(String),
          requestId: expect.any(String),
        }),
      );
    }
    expect((await (await h.admin("/api/admin/outbox")).json()).messages.length).toBe(before);
  });

  it("a form sign-in from the page redirects to the check-your-email page", async () => {
    const res = await h.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://shop.test" },
      body: "email=form%40example.com&next=%2F%2Fevil.example",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/login?sent=1&email=form%40example.com");
    const page = await (await h.request(res.headers.get("location") as string)).text();
    expect(page).toContain("Check your email");
  });

  it("a person's failed step comes back as the form with the reason: a wrong code keeps the address, a bad address keeps what was typed, a spent link offers a new one", async () => {
    const form = (path: string, body: string) =>
      h.request(path, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: "http://shop.test",
        },
        body,
      });
    await h.request("/auth/login", json({ email: "typo@example.com" }));
    const code = codeIn((await h.lastMailTo("typo@example.com")).text);

    const wrong = await form(
      "/auth/code",
      `email=typo%40example.com&code=${wrongFor(code)}&next=%2Flibrary`,
    );
    expect(wrong.status).toBe(400);
    const wrongPage = await wrong.text();
    expect(wrongPage).toContain("That code is not right");
    expect(wrongPage).toContain('name="code"');
    expect(wrongPage).toContain('value="typo@example.com"');
    expect(wrongPage).toContain('value="/library"');
    expect(wrongPage).toContain("Send a new link and code");
    // The right code still works after the wrong one: the form is the way on.
    const right = await form("/auth/code", `email=typo%40example.com&code=${code}`);
    expect(right.status).toBe(303);

    const badAddress = await form("/auth/login", "email=not-an-address");
    expect(badAddress.status).toBe(400);
    const badPage = await badAddress.text();
    expect(badPage).toContain("must be an email address");
    expect(badPage).toContain('value="not-an-address"');
    expect(badPage).toContain("Email me a sign-in link");

    const spent = await h.request("/auth/callback?token=nonsense", {
      headers: { accept: "text/html" },
    });
    expect(spent.status).toBe(410);
    const spentPage = await spent.text();
    expect(spentPage).toContain("expired or was already used");
    expect(spentPage).toContain('action="/auth/login"');
    expect(spent.headers.get("set-cookie")).toBeNull();
  });

  it("never redirects off-site after sign-in", async () => {
    for (const next of [
      "//evil.example",
      "https://evil.example",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      const email = `next${Math.random().toString(36).slice(2, 7)}@example.com`;
      await h.request("/auth/login", json({ email, next }));
      const res = await h.request(linkIn((await h.lastMailTo(email)).text));
      expect(res.headers.get("location")).toBe("/library");
    }
  });

  it("signing out ends the session on the server", async () => {
    const cookie = await h.signIn("leaver@example.com");
    const out = await h.request("/auth/logout", {
      method: "POST",
      cookie,
      headers: { origin: "http://shop.test" },
    });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/tg_session=;/);
    const me = await (await h.request("/api/me", { cookie })).json();
    expect(me.user).toBeNull();
  });

  it("trusts the browser's Sec-Fetch-Site over an Origin hidden as null, and refuses other sites with a page", async () => {
    const cookie = await h.signIn("fetch-site@example.com");
    const forged = await h.request("/auth/logout", {
      method: "POST",
      cookie,
      headers: { origin: "null", "sec-fetch-site": "cross-site", accept: "text/html" },
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("content-type")).toContain("text/html");
    expect(await forged.text()).toContain("This request came from another site and was refused.");
    expect((await (await h.request("/api/me", { cookie })).json()).user.email).toBe(
      "fetch-site@example.com",
    );
    const ours = await h.request("/auth/logout", {
      method: "POST",
      cookie,
      headers: { origin: "null", "sec-fetch-site": "same-origin" },
    });
    expect(ours.ok).toBe(true);
    expect((await (await h.request("/api/me", { cookie })).json()).user).toBeNull();
  });

  it("a state-changing request from another site that rides on the cookie is refused", async () => {
    const cookie = await h.signIn("victim@example.com");
    const res = await h.request("/auth/logout", {
      method: "POST",
      cookie,
      headers: { origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect((await (await h.request("/api/me", { cookie })).json()).user.email).toBe(
      "victim@example.com",
    );
  });
});
