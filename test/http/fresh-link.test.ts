import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const html = { accept: "text/html,application/xhtml+xml" };
const NEUTRAL = "a fresh link is on its way to it";
const LINK = /http:\/\/shop\.test\/d\/tgd_[\w-]{43}/g;

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

describe.each(dialects)("send me a fresh link on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  const mailsTo = (email: string) => readOutbox(h.deps.db, { to: email, limit: 100 });
  const allMail = async () => (await readOutbox(h.deps.db, { limit: 1000 })).length;

  /** A product with one file owned by `email`, and a link to it that has already expired. */
  async function expiredLink(email: string, content = "fresh bytes") {
    const owned = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: owned.product.slug, expiresIn: "1h" });
    h.clock.advance(61 * 60 * 1000);
    return { ...owned, token };
  }

  /** The id of the one entitlement `email` holds. */
  async function linkEntitlement(email: string) {
    const res = await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`);
    return ((await res.json()).entitlements as { id: string }[])[0]?.id;
  }

  const askForm = (token: string, email: string) =>
    h.request(`/d/${token}/fresh`, {
      method: "POST",
      headers: { ...html, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email }).toString(),
    });
  const askJson = (token: string, body: unknown) =>
    h.request(`/d/${token}/fresh`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("an expired link says so and offers the form; the right email gets exactly one mail whose link downloads", async () => {
    const email = uniqueEmail("expired");
    const { product, asset, token } = await expiredLink(email, "the real file");

    const page = await h.request(`/d/${token}`, { headers: html });
    expect(page.status).toBe(410);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    const body = await page.text();
    expect(body).toContain("This download link has expired");
    expect(body).toContain(product.name);
    expect(body).toContain(`action="/d/${token}/fresh"`);
    expect(body).toContain('type="email"');
    expect(body).toContain("Send me a fresh link");
    expect(body).not.toContain(asset.id);
    // Programs still get the one answer every bad link gets.
    const json = await h.request(`/d/${token}`);
    expect(json.status).toBe(410);
    expect(await json.json()).toMatchObject({ code: "gone", message: /expired or is not valid/ });

    const before = (await mailsTo(email)).length;
    const answer = await askForm(token, `  ${email.toUpperCase()} `);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
    const answerPage = await answer.text();
    expect(answerPage).toContain("Check your email");
    expect(answerPage).toContain(NEUTRAL);
    expect(answerPage).toContain("Links expire after 24 hours");

    const mails = await mailsTo(email);
    expect(mails).toHaveLength(before + 1);
    const [mail] = mails;
    expect(mail?.subject).toBe(`Your fresh download link for ${product.name}`);
    const links = mail?.text.match(LINK) ?? [];
    expect(links).toHaveLength(1);
    const fresh = links[0] as string;
    expect(fresh).not.toContain(token);
    expect(mail?.html).toContain(`href="${fresh}"`);
    expect(mail?.text).not.toMatch(/\/files\//);

    const freshPage = await h.request(fresh, { headers: html });
    expect(freshPage.status).toBe(200);
    expect(await freshPage.text()).toContain("kit.zip");
    const download = await h.request(`${fresh}/${asset.id}`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe("the real file");
    // The old link stays dead.
    expect((await h.request(`/d/${token}/${asset.id}`)).status).toBe(410);
  });

  it("a spent one-file link says it was used up; the fresh link keeps its one-file scope", async () => {
    const email = uniqueEmail("spent");
    const product = await h.createProduct({ name: "Two Files" });
    const chosen = await h.upload(product.slug, "chosen.zip", "chosen bytes");
    const other = await h.upload(product.slug, "other.zip", "other bytes");
    await h.grant(email, product.slug);
    const { token } = await h.token({
      email,
      product: product.slug,
      assetId: chosen.id,
      maxUses: 1,
    });
    expect(await (await h.request(`/d/${token}/${chosen.id}`)).text()).toBe("chosen bytes");

    const page = await h.request(`/d/${token}`, { headers: html });
    expect(page.status).toBe(410);
    const body = await page.text();
    expect(body).toContain("This download link has been used the maximum number of times");
    expect(body).toContain(`action="/d/${token}/fresh"`);
    const json = await h.request(`/d/${token}`);
    expect(json.status).toBe(410);
    expect(await json.json()).toMatchObject({ code: "gone", message: /used as many times/ });

    const answer = await askJson(token, { email });
    expect(answer.status).toBe(202);
    expect(await answer.json()).toEqual({
      status: "sent",
      message: expect.stringContaining(NEUTRAL),
    });

    const fresh = (await mailsTo(email))[0]?.text.match(LINK)?.[0] as string;
    expect(fresh).toBeDefined();
    const freshPage = await (await h.request(fresh, { headers: html })).text();
    expect(freshPage).toContain("chosen.zip");
    expect(freshPage).not.toContain("other.zip");
    expect((await h.request(`${fresh}/${other.id}`)).status).toBe(404);
    expect(await (await h.request(`${fresh}/${chosen.id}`)).text()).toBe("chosen bytes");
  });

  /** A free product claimed by signed-in `email`, and an expired link issued to its user id. */
  async function expiredUserLink(email: string) {
    const product = await h.createProduct({ kind: "free", name: "Free Pack", price: undefined });
    const asset = await h.upload(product.slug, "pack.zip", "free pack bytes");
    const cookie = await h.signIn(email);
    const claim = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      cookie,
      headers: { ...html, origin: "http://shop.test" },
    });
    expect(claim.status).toBe(303);
    const listed = await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`);
    const [entitlement] = (await listed.json()).entitlements as { userId: string }[];
    expect(entitlement?.userId).toMatch(/^usr_/);
    const { token } = await h.token({
      userId: entitlement?.userId,
      product: product.slug,
      expiresIn: "5m",
    });
    h.clock.advance(6 * 60 * 1000);
    return { asset, token };
  }

  it("a link issued to a user id is renewed for that user's email", async () => {
    const email = uniqueEmail("user");
    const { asset, token } = await expiredUserLink(email);

    const answer = await askForm(token, email.toUpperCase());
    expect(await answer.text()).toContain(NEUTRAL);
    const mail = (await mailsTo(email))[0];
    expect(mail?.subject).toBe("Your fresh download link for Free Pack");
    const fresh = mail?.text.match(LINK)?.[0] as string;
    expect(await (await h.request(`${fresh}/${asset.id}`)).text()).toBe("free pack bytes");
  });

  it("a wrong email, a refunded owner, a revoked link and an unknown link get the same answer and no mail", async () => {
    const owner = uniqueEmail("owner");
    const { token } = await expiredLink(owner);
    const { token: sameOwnersOtherLink } = await expiredLink(owner);
    const { token: userLink } = await expiredUserLink(uniqueEmail("user-owner"));

    const refundedOwner = uniqueEmail("refunded");
    const refunded = await expiredLink(refundedOwner);
    const revoke = await h.admin(
      `/api/admin/entitlements/${await linkEntitlement(refundedOwner)}/revoke`,
      {
        method: "POST",
        json: { reason: "refunded" },
      },
    );
    expect(revoke.status).toBe(200);

    const revokedOwner = uniqueEmail("revoked-link");
    const revokedLink = await expiredLink(revokedOwner);
    // No route revokes one link yet; the row is what a future one would write.
    await h.deps.db
      .updateTable("delivery_tokens")
      .set({ revoked_at: h.clock.now() })
      .where("entitlement_id", "=", (await linkEntitlement(revokedOwner)) as string)
      .execute();

    const cases: [string, string][] = [
      [token, uniqueEmail("stranger")],
      [sameOwnersOtherLink, `x${owner}`],
      [userLink, uniqueEmail("not-the-user")],
      [refunded.token, refundedOwner],
      [revokedLink.token, revokedOwner],
      [`tgd_${"x".repeat(43)}`, owner],
      ["nonsense", owner],
    ];
    const mailBefore = await allMail();
    const jsonAnswers: unknown[] = [];
    const pages: string[] = [];
    for (const [link, email] of cases) {
      const json = await askJson(link, { email });
      jsonAnswers.push({ status: json.status, body: await json.json() });
      const page = await askForm(link, email);
      expect(page.status).toBe(200);
      pages.push((await page.text()).replaceAll(email, "EMAIL"));
    }
    expect(await allMail()).toBe(mailBefore);
    for (const answer of jsonAnswers) expect(answer).toEqual(jsonAnswers[0]);
    expect(jsonAnswers[0]).toMatchObject({ status: 202, body: { status: "sent" } });
    for (const page of pages) expect(page).toBe(pages[0]);
    expect(pages[0]).toContain(NEUTRAL);

    // The refunded owner's expired link still shows the expired page, and never a file.
    const page = await h.request(`/d/${refunded.token}`, { headers: html });
    expect(page.status).toBe(410);
    expect(await page.text()).not.toContain(refunded.asset.id);
  });

  it("asking too often through one link answers 429 with a plain page and sends nothing more", async () => {
    const email = uniqueEmail("limit");
    const { token } = await expiredLink(email);
    for (let i = 0; i < 3; i++) {
      const ok = await askForm(token, email);
      expect(ok.status).toBe(200);
      await ok.text();
    }
    const sent = (await mailsTo(email)).length;

    const limited = await askForm(token, email);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = await limited.text();
    expect(body).toMatch(/^<!doctype html>/);
    expect(body).toContain("Too many requests");
    expect(body).toContain("Please wait a while");
    expect(body).not.toContain(NEUTRAL);
    const json = await askJson(token, { email });
    expect(json.status).toBe(429);
    expect(await json.json()).toMatchObject({ code: "rate_limited" });
    expect(await mailsTo(email)).toHaveLength(sent);

    // An hour later the link may ask again.
    h.clock.advance(61 * 60 * 1000);
    expect((await askForm(token, email)).status).toBe(200);
    expect(await mailsTo(email)).toHaveLength(sent + 1);
  });

  it("a malformed body gets a clear 400 and sends nothing", async () => {
    const email = uniqueEmail("malformed");
    const { token } = await expiredLink(email);
    const mailBefore = await allMail();
    const cases: [unknown, RegExp][] = [
      ["{not json", /not valid JSON/],
      [[email], /must be a JSON object/],
      [{}, /email/],
      [{ email: "not-an-email" }, /email: must be an email address/],
      [{ email: ["a@example.com"] }, /email/],
      [{ email: `${"a".repeat(250)}@example.com` }, /email: is too long/],
    ];
    for (const [body, message] of cases) {
      const res = await askJson(token, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_input", message });
    }
    const page = await askForm(token, "not-an-email");
    expect(page.status).toBe(400);
    const text = await page.text();
    expect(text).toContain("That did not work");
    expect(text).toContain("email: must be an email address");
    expect(await allMail()).toBe(mailBefore);
  });

  it("opening the form's address directly goes back to the link's page", async () => {
    const res = await h.request(`/d/tgd_${"y".repeat(43)}/fresh`, { headers: html });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/d/tgd_${"y".repeat(43)}`);
  });
});
