import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

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

  it("the code signs in once; five wrong codes spend it", async () => {
    await h.request("/auth/login", json({ email: "coder@example.com" }));
    const code = codeIn((await h.lastMailTo("coder@example.com")).text);
    const ok = await h.request("/auth/code", json({ email: "coder@example.com", code }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("set-cookie")).toMatch(/^tg_session=/);
    const reuse = await h.request("/auth/code", json({ email: "coder@example.com", code }));
    expect(reuse.status).toBe(410);

    await h.request("/auth/login", json({ email: "guesser@example.com" }));
    const real = codeIn((await h.lastMailTo("guesser@example.com")).text);
    const wrong = real === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++) {
      const res = await h.request(
        "/auth/code",
        json({ email: "guesser@example.com", code: wrong }),
      );
      expect(res.status).toBe(400);
    }
    const late = await h.request("/auth/code", json({ email: "guesser@example.com", code: real }));
    expect(late.status).toBe(410);
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
