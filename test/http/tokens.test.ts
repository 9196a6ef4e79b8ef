import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const INVALID_LINK = /expired or is not valid/;
const USED_UP = /used as many times/;

/** One character of a token changed to another valid base64url character. */
function tamper(token: string, at = 20): string {
  const c = token[at] === "A" ? "B" : "A";
  return token.slice(0, at) + c + token.slice(at + 1);
}

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

describe.each(dialects)("delivery tokens on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  /** The download log rows made through token links for one buyer, oldest first. */
  async function tokenDownloads(email: string) {
    const res = await h.admin(`/api/admin/downloads?email=${encodeURIComponent(email)}`);
    expect(res.status).toBe(200);
    const { downloads } = (await res.json()) as {
      downloads: { assetId: string; via: string; tokenId: string | null }[];
    };
    return downloads.filter((d) => d.via === "token").reverse();
  }

  /** The status of a GET, reading the body to its end as a client would. */
  async function statusOf(path: string) {
    const res = await h.request(path);
    await res.arrayBuffer();
    return res.status;
  }

  async function revoke(entitlementId: string, reason?: string) {
    const res = await h.admin(`/api/admin/entitlements/${entitlementId}/revoke`, {
      method: "POST",
      json: reason ? { reason } : {},
    });
    expect(res.status).toBe(200);
  }

  async function retire(assetId: string) {
    const res = await h.admin(`/api/admin/assets/${assetId}`, {
      method: "PATCH",
      json: { active: false },
    });
    expect(res.status).toBe(200);
  }

  it("a link works until it expires, then answers 410", async () => {
    const email = uniqueEmail("expiry");
    const { product, asset } = await h.ownedProduct(email, "expiring bytes");
    const { token } = await h.token({ email, product: product.slug, expiresIn: "1h" });

    expect(await statusOf(`/d/${token}`)).toBe(200);
    const first = await h.request(`/d/${token}/${asset.id}`);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("expiring bytes");

    h.clock.advance(59 * 60 * 1000);
    const late = await h.request(`/d/${token}/${asset.id}`);
    expect(late.status).toBe(200);
    expect(await late.text()).toBe("expiring bytes");

    h.clock.advance(2 * 60 * 1000);
    for (const path of [`/d/${token}`, `/d/${token}/${asset.id}`]) {
      const res = await h.request(path);
      expect(res.status).toBe(410);
      expect(await res.json()).toMatchObject({ code: "gone", message: INVALID_LINK });
    }
  });

  it("unknown, tampered, malformed and expired links all get the same status and message", async () => {
    const email = uniqueEmail("same-answer");
    const { product, asset } = await h.ownedProduct(email, "secret bytes");
    const { token: expired } = await h.token({ email, product: product.slug, expiresIn: "60s" });
    h.clock.advance(61_000);
    const { token } = await h.token({ email, product: product.slug, expiresIn: "1h" });

    const tampered = tamper(token);
    expect(tampered).not.toBe(token);
    expect(tampered).toHaveLength(token.length);
    const unknown = `tgd_${"x".repeat(43)}`;
    const malformed = ["nonsense", "tgd_short", `${token}x`, token.slice(0, -1), `${token}%00`];

    const answers: { status: number; body: unknown }[] = [];
    for (const bad of [expired, tampered, unknown, ...malformed]) {
      for (const path of [`/d/${bad}`, `/d/${bad}/${asset.id}`]) {
        const res = await h.request(path);
        expect(res.headers.get("referrer-policy")).toBe("no-referrer");
        const body = (await res.json()) as { code: string; message: string };
        answers.push({ status: res.status, body: { code: body.code, message: body.message } });
      }
    }
    expect(answers[0]).toEqual({
      status: 410,
      body: { code: "gone", message: expect.stringMatching(INVALID_LINK) },
    });
    for (const answer of answers) expect(answer).toEqual(answers[0]);

    // The real token, one character away from the tampered one, still works.
    const real = await h.request(`/d/${token}/${asset.id}`);
    expect(real.status).toBe(200);
    expect(await real.text()).toBe("secret bytes");
  });

  it("a link with maxUses N downloads exactly N times, then answers 410 'used as many times'", async () => {
    const email = uniqueEmail("max-uses");
    const { product, asset } = await h.ownedProduct(email, "three times");
    const { token } = await h.token({ email, product: product.slug, maxUses: 3 });

    for (let i = 0; i < 3; i++) {
      const res = await h.request(`/d/${token}/${asset.id}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("three times");
    }
    for (let i = 0; i < 2; i++) {
      const res = await h.request(`/d/${token}/${asset.id}`);
      expect(res.status).toBe(410);
      expect(await res.json()).toMatchObject({ code: "gone", message: USED_UP });
    }
    expect(await tokenDownloads(email)).toHaveLength(3);
  });

  it.each([
    [5, 6],
    [5, 20],
    [5, 200],
  ])(
    "%i-use link, %i concurrent downloads: exactly that many succeed and are logged",
    async (uses, concurrent) => {
      const email = uniqueEmail("race");
      const content = "raced bytes ".repeat(5000);
      const { product, asset } = await h.ownedProduct(email, content);
      const { token } = await h.token({ email, product: product.slug, maxUses: uses });

      const results = await Promise.all(
        Array.from({ length: concurrent }, async () => {
          const res = await h.request(`/d/${token}/${asset.id}`);
          return { status: res.status, body: await res.text() };
        }),
      );
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      expect(ok).toHaveLength(uses);
      for (const r of ok) expect(r.body).toBe(content);
      expect(refused).toHaveLength(concurrent - uses);
      for (const r of refused) {
        expect(r.status).toBe(410);
        expect(JSON.parse(r.body).message).toMatch(USED_UP);
      }

      const log = await tokenDownloads(email);
      expect(log).toHaveLength(uses);
      expect(new Set(log.map((d) => d.tokenId)).size).toBe(1);
      expect(await statusOf(`/d/${token}/${asset.id}`)).toBe(410);
    },
  );

  it("revoking the entitlement closes open links at once, page included, with 403", async () => {
    const email = uniqueEmail("revoked");
    const product = await h.createProduct();
    const asset = await h.upload(product.slug, "kit.zip", "revocable");
    const entitlement = await h.grant(email, product.slug);
    const { token } = await h.token({ email, product: product.slug });
    expect(await statusOf(`/d/${token}/${asset.id}`)).toBe(200);
    expect(await statusOf(`/d/${token}`)).toBe(200);

    await revoke(entitlement.id);

    for (const path of [`/d/${token}`, `/d/${token}/${asset.id}`]) {
      const res = await h.request(path);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: "forbidden", message: /revoked/ });
    }
    // The page, as a browser asks for it, also refuses and shows no file.
    const page = await h.request(`/d/${token}`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toMatch(/revoked/);
    expect(html).not.toContain(`/d/${token}/${asset.id}`);
  });

  it("a retired file answers 410 through a link, while the product's other files still work", async () => {
    const email = uniqueEmail("retired");
    const product = await h.createProduct();
    const old = await h.upload(product.slug, "old.zip", "old bytes");
    const kept = await h.upload(product.slug, "kept.zip", "kept bytes");
    await h.grant(email, product.slug);
    const { token } = await h.token({ email, product: product.slug });

    await retire(old.id);

    const res = await h.request(`/d/${token}/${old.id}`);
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ code: "gone", message: /retired/ });
    const other = await h.request(`/d/${token}/${kept.id}`);
    expect(other.status).toBe(200);
    expect(await other.text()).toBe("kept bytes");
    const page = await (await h.request(`/d/${token}`)).text();
    expect(page).toContain(`/d/${token}/${kept.id}`);
    expect(page).not.toContain(old.id);
  });

  it("a link for one file refuses the product's other files and files of other products with 404", async () => {
    const email = uniqueEmail("one-file");
    const product = await h.createProduct();
    const chosen = await h.upload(product.slug, "chosen.zip", "chosen bytes");
    const sibling = await h.upload(product.slug, "sibling.zip", "sibling bytes");
    await h.grant(email, product.slug);
    const elsewhere = await h.ownedProduct(email, "other product bytes");
    const { token } = await h.token({
      email,
      product: product.slug,
      assetId: chosen.id,
      maxUses: 1,
    });

    for (const assetId of [sibling.id, elsewhere.asset.id, "ast_doesnotexist"]) {
      const res = await h.request(`/d/${token}/${assetId}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        code: "not_found",
        message: "There is no such file.",
      });
    }
    const page = await (await h.request(`/d/${token}`)).text();
    expect(page).toContain("chosen.zip");
    expect(page).not.toContain("sibling.zip");

    // The refusals used nothing up: the one use is still there.
    const res = await h.request(`/d/${token}/${chosen.id}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("chosen bytes");
  });

  it("a file of another product is 404 through a product-wide link too", async () => {
    const email = uniqueEmail("other-product");
    const mine = await h.ownedProduct(email, "mine");
    const theirs = await h.ownedProduct(uniqueEmail("someone-else"), "theirs");
    const { token } = await h.token({ email, product: mine.product.slug });

    const res = await h.request(`/d/${token}/${theirs.asset.id}`);
    expect(res.status).toBe(404);
    expect((await res.json()).message).toBe("There is no such file.");
    expect(await tokenDownloads(email)).toHaveLength(0);
  });

  /** A GET of a token link's file with a Range header: its status and body, read to the end. */
  async function ranged(token: string, assetId: string, range: string) {
    const res = await h.request(`/d/${token}/${assetId}`, { headers: { range } });
    return { status: res.status, range: res.headers.get("content-range"), body: await res.text() };
  }

  it("a 1-use link, once used, refuses any later range with the used-up answer and logs nothing more", async () => {
    const email = uniqueEmail("used-once");
    const content = "0123456789".repeat(10);
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    const full = await h.request(`/d/${token}/${asset.id}`);
    expect(full.status).toBe(200);
    expect(await full.text()).toBe(content);

    for (const range of ["bytes=1-", "bytes=1-", "bytes=50-", "bytes=99-", "bytes=-1"]) {
      const res = await h.request(`/d/${token}/${asset.id}`, { headers: { range } });
      expect({ range, status: res.status }).toEqual({ range, status: 410 });
      expect(await res.json()).toMatchObject({ code: "gone", message: USED_UP });
    }
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("ranges that continue a counted use are free until they total the file's size, then refused", async () => {
    const email = uniqueEmail("resume");
    const content = "0123456789".repeat(10);
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    expect(await ranged(token, asset.id, "bytes=0-39")).toEqual({
      status: 206,
      range: "bytes 0-39/100",
      body: content.slice(0, 40),
    });
    expect(await ranged(token, asset.id, "bytes=40-69")).toMatchObject({
      status: 206,
      body: content.slice(40, 70),
    });
    // 70 bytes served: a range of 31 would make 101, more than the file.
    expect(await ranged(token, asset.id, "bytes=69-")).toMatchObject({ status: 410 });
    expect(await ranged(token, asset.id, "bytes=70-")).toEqual({
      status: 206,
      range: "bytes 70-99/100",
      body: content.slice(70),
    });
    for (const range of ["bytes=70-", "bytes=99-", "bytes=1-1"]) {
      const again = await ranged(token, asset.id, range);
      expect({ range, status: again.status }).toEqual({ range, status: 410 });
      expect(JSON.parse(again.body).message).toMatch(USED_UP);
    }
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("a download cut off early resumes from where it stopped, once, within the file's size", async () => {
    const email = uniqueEmail("cut-off");
    const content = "abcdefghijklmnopqrstuvwxyz".repeat(120_000); // over 1 MiB, the store's chunk
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    // The client reads the first part of the body, then the connection drops.
    const cut = await h.request(`/d/${token}/${asset.id}`);
    expect(cut.status).toBe(200);
    const reader = (cut.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    await reader.cancel();
    const got = first.value?.byteLength ?? 0;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(content.length);

    const rest = await ranged(token, asset.id, `bytes=${got}-`);
    expect(rest.status).toBe(206);
    expect(rest.range).toBe(`bytes ${got}-${content.length - 1}/${content.length}`);
    expect(rest.body).toBe(content.slice(got));

    expect(await ranged(token, asset.id, `bytes=${got}-`)).toMatchObject({ status: 410 });
    // Beyond the file, a cut-off download may hand out at most what was in flight at the cut
    // (here all it sent, as nothing sits in a socket buffer in-process), never more.
    expect(await ranged(token, asset.id, `bytes=${content.length - got - 1}-`)).toMatchObject({
      status: 410,
    });
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("a range continues a use only within 30 minutes of its last range; later it is a new use", async () => {
    const email = uniqueEmail("window");
    const content = "0123456789".repeat(10);
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    expect(await ranged(token, asset.id, "bytes=0-29")).toMatchObject({ status: 206 });
    h.clock.advance(29 * 60 * 1000);
    expect(await ranged(token, asset.id, "bytes=30-59")).toMatchObject({
      status: 206,
      body: content.slice(30, 60),
    });
    h.clock.advance(29 * 60 * 1000);
    expect(await ranged(token, asset.id, "bytes=60-69")).toMatchObject({ status: 206 });
    h.clock.advance(31 * 60 * 1000);
    const late = await ranged(token, asset.id, "bytes=70-");
    expect(late.status).toBe(410);
    expect(JSON.parse(late.body).message).toMatch(USED_UP);
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("ranges sent at once never take more than one file from a use", async () => {
    const email = uniqueEmail("range-race");
    const content = "0123456789".repeat(10);
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });
    expect(await ranged(token, asset.id, "bytes=0-49")).toMatchObject({ status: 206 });

    const results = await Promise.all(
      Array.from({ length: 20 }, () => ranged(token, asset.id, "bytes=50-")),
    );
    expect(results.filter((r) => r.status === 206)).toEqual([
      { status: 206, range: "bytes 50-99/100", body: content.slice(50) },
    ]);
    expect(results.filter((r) => r.status === 410)).toHaveLength(19);
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("a multi-use link still counts each download once, its continuing ranges not at all", async () => {
    const email = uniqueEmail("multi-use");
    const content = "0123456789".repeat(10);
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, maxUses: 3 });

    expect(await ranged(token, asset.id, "bytes=0-49")).toMatchObject({ status: 206 });
    expect(await ranged(token, asset.id, "bytes=50-")).toMatchObject({ status: 206 });
    expect(await tokenDownloads(email)).toHaveLength(1);
    expect(await statusOf(`/d/${token}/${asset.id}`)).toBe(200);
    expect(await tokenDownloads(email)).toHaveLength(2);
    // Past what either download has left, a range is a download of its own: the third use.
    expect(await ranged(token, asset.id, "bytes=1-")).toMatchObject({
      status: 206,
      body: content.slice(1),
    });
    expect(await tokenDownloads(email)).toHaveLength(3);
    expect(await ranged(token, asset.id, "bytes=1-1")).toMatchObject({ status: 206, body: "1" });
    expect(await ranged(token, asset.id, "bytes=1-")).toMatchObject({ status: 410 });
    expect(await statusOf(`/d/${token}/${asset.id}`)).toBe(410);
    expect(await tokenDownloads(email)).toHaveLength(3);
  });

  it("a Range starting at 0 is a new download and counts", async () => {
    const email = uniqueEmail("range-zero");
    const content = "abcdefghij".repeat(10);
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, maxUses: 2 });

    for (let i = 0; i < 2; i++) {
      const res = await h.request(`/d/${token}/${asset.id}`, { headers: { range: "bytes=0-9" } });
      expect(res.status).toBe(206);
      expect(await res.text()).toBe("abcdefghij");
    }
    const third = await h.request(`/d/${token}/${asset.id}`, { headers: { range: "bytes=0-9" } });
    expect(third.status).toBe(410);
    expect((await third.json()).message).toMatch(USED_UP);
    expect(await tokenDownloads(email)).toHaveLength(2);
  });

  it("a later Range of a file the link never downloaded counts as a new download", async () => {
    const email = uniqueEmail("range-other-file");
    const product = await h.createProduct();
    const first = await h.upload(product.slug, "first.zip", "first file bytes");
    const second = await h.upload(product.slug, "second.zip", "second file bytes");
    await h.grant(email, product.slug);
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    expect(await statusOf(`/d/${token}/${first.id}`)).toBe(200);
    const sneak = await h.request(`/d/${token}/${second.id}`, { headers: { range: "bytes=1-" } });
    expect(sneak.status).toBe(410);
    expect((await sneak.json()).message).toMatch(USED_UP);
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("a Range whose If-Range no longer matches is a whole new download and counts", async () => {
    const email = uniqueEmail("if-range");
    const { product, asset } = await h.ownedProduct(email, "if-range bytes");
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });
    expect(await ranged(token, asset.id, "bytes=0-2")).toMatchObject({ status: 206 });

    // What is left of the use would cover bytes 3 onward, but not the whole file a stale
    // If-Range gets.
    const stale = await h.request(`/d/${token}/${asset.id}`, {
      headers: { range: "bytes=3-", "if-range": '"an-older-version"' },
    });
    expect(stale.status).toBe(410);
    expect((await stale.json()).message).toMatch(USED_UP);

    const current = await h.request(`/d/${token}/${asset.id}`, {
      headers: { range: "bytes=3-", "if-range": `"${asset.sha256}"` },
    });
    expect(current.status).toBe(206);
    expect(await current.text()).toBe("if-range bytes".slice(3));
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("a HEAD request describes the file without using the link up or logging a download", async () => {
    const email = uniqueEmail("head");
    const { product, asset } = await h.ownedProduct(email, "head bytes");
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    for (let i = 0; i < 3; i++) {
      const head = await h.request(`/d/${token}/${asset.id}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe(String("head bytes".length));
      expect(head.headers.get("content-disposition")).toContain("filename*=UTF-8''kit.zip");
      expect(head.headers.get("referrer-policy")).toBe("no-referrer");
      expect(await head.text()).toBe("");
    }
    expect(await tokenDownloads(email)).toHaveLength(0);

    const get = await h.request(`/d/${token}/${asset.id}`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe("head bytes");
    const spent = await h.request(`/d/${token}/${asset.id}`, { method: "HEAD" });
    expect(spent.status).toBe(410);
    expect(await tokenDownloads(email)).toHaveLength(1);
  });

  it("a link can be made only for an email with an active entitlement", async () => {
    const product = await h.createProduct();
    await h.upload(product.slug, "kit.zip", "bytes");
    const stranger = await h.admin("/api/admin/tokens", {
      method: "POST",
      json: { email: uniqueEmail("stranger"), product: product.slug },
    });
    expect(stranger.status).toBe(403);
    expect(await stranger.json()).toMatchObject({
      code: "forbidden",
      message: "You have not purchased this product.",
    });

    const email = uniqueEmail("was-owner");
    const entitlement = await h.grant(email, product.slug);
    await revoke(entitlement.id, "refunded");
    const revoked = await h.admin("/api/admin/tokens", {
      method: "POST",
      json: { email, product: product.slug },
    });
    expect(revoked.status).toBe(403);
    expect((await revoked.json()).message).toMatch(/refunded/);
  });

  it.each([["soon"], [""], ["0"], ["-5m"], ["400d"], ["1.5h"], [0], [-60], [1.5]])(
    "expiresIn %j is refused with 400 and a message",
    async (expiresIn) => {
      const email = uniqueEmail("bad-expiry");
      const { product } = await h.ownedProduct(email);
      const res = await h.admin("/api/admin/tokens", {
        method: "POST",
        json: { email, product: product.slug, expiresIn },
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_input");
      expect(body.message).toMatch(/expiresIn/);
    },
  );

  it("a link for one retired file is refused when it is created, not when a buyer opens it", async () => {
    const email = uniqueEmail("retired-link");
    const { product, asset } = await h.ownedProduct(email);
    await h.admin(`/api/admin/assets/${asset.id}`, { method: "PATCH", json: { active: false } });
    const res = await h.admin("/api/admin/tokens", {
      method: "POST",
      json: { email, product: product.slug, assetId: asset.id },
    });
    expect(res.status).toBe(410);
    expect((await res.json()).message).toMatch(/retired/);
  });

  it("expiresIn takes a duration and the link expires then", async () => {
    const email = uniqueEmail("good-expiry");
    const { product } = await h.ownedProduct(email);
    const before = h.clock.time;
    const created = await h.token({ email, product: product.slug, expiresIn: "90m" });
    const expiresAt = Date.parse(created.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(90 * 60 * 1000);
    expect(expiresAt - before).toBeLessThan(90 * 60 * 1000 + 5_000);
  });

  it("every /d/ response says Referrer-Policy: no-referrer and is not cached, errors included", async () => {
    const email = uniqueEmail("referrer");
    const { product, asset } = await h.ownedProduct(email, "0123456789");
    const other = await h.ownedProduct(uniqueEmail("referrer-other"));
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });
    const retiredProduct = await h.createProduct();
    const retired = await h.upload(retiredProduct.slug, "gone.zip", "gone");
    await h.grant(email, retiredProduct.slug);
    const { token: retiredToken } = await h.token({ email, product: retiredProduct.slug });
    await retire(retired.id);
    const revokedProduct = await h.createProduct();
    const revokedAsset = await h.upload(revokedProduct.slug, "kit.zip", "revoked");
    const grant = await h.grant(email, revokedProduct.slug);
    const { token: revokedToken } = await h.token({ email, product: revokedProduct.slug });
    await revoke(grant.id);

    const cases: [string, Record<string, string>, number][] = [
      [`/d/${token}`, {}, 200],
      [`/d/${token}`, { accept: "text/html" }, 200],
      [`/d/${token}/${asset.id}`, { range: "bytes=999-" }, 416],
      [`/d/${token}/${asset.id}`, { range: "bytes=0-3" }, 206],
      [`/d/${token}/${asset.id}`, { range: "bytes=4-" }, 206],
      [`/d/${token}/${asset.id}`, {}, 410],
      [`/d/${token}/${other.asset.id}`, {}, 404],
      [`/d/${tamper(token)}`, {}, 410],
      [`/d/${tamper(token)}`, { accept: "text/html" }, 410],
      [`/d/nonsense/${asset.id}`, {}, 410],
      [`/d/${revokedToken}`, {}, 403],
      [`/d/${revokedToken}/${revokedAsset.id}`, {}, 403],
      [`/d/${retiredToken}/${retired.id}`, {}, 410],
      [`/d/${token}/${asset.id}`, { range: "bytes=4-" }, 410],
      [`/d/${token}/${asset.id}/extra`, {}, 404],
    ];
    for (const [path, headers, status] of cases) {
      const res = await h.request(path, { headers });
      await res.arrayBuffer();
      expect({ path, headers, status: res.status }).toEqual({ path, headers, status });
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("cache-control")).toContain("no-store");
    }
  });
});

describe.each(dialects)("delivery tokens in redirect mode on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, { DELIVERY_MODE: "redirect" });
  });
  afterAll(() => h.close());

  it("a HEAD request hands out no signed URL and uses nothing up", async () => {
    const email = uniqueEmail("redirect-head");
    const { product, asset } = await h.ownedProduct(email, "head bytes");
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    const head = await h.request(`/d/${token}/${asset.id}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("location")).toBeNull();
    expect(head.headers.get("content-length")).toBe(String("head bytes".length));

    const get = await h.request(`/d/${token}/${asset.id}`);
    expect(get.status).toBe(302);
    const file = await h.request(get.headers.get("location") as string);
    expect(await file.text()).toBe("head bytes");
  });

  it("a link redirects to a signed URL once per use, and a Range header does not get another", async () => {
    const email = uniqueEmail("redirect");
    const { product, asset } = await h.ownedProduct(email, "redirected bytes");
    const { token } = await h.token({ email, product: product.slug, maxUses: 1 });

    const first = await h.request(`/d/${token}/${asset.id}`);
    expect(first.status).toBe(302);
    expect(first.headers.get("referrer-policy")).toBe("no-referrer");
    const location = first.headers.get("location") as string;
    expect(location).toMatch(/^http:\/\/shop\.test\/files\//);
    const file = await h.request(location);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("redirected bytes");

    // With redirects the whole file is behind every signed URL: a Range on the link is a new use.
    for (const headers of [{}, { range: "bytes=1-" }] as Record<string, string>[]) {
      const again = await h.request(`/d/${token}/${asset.id}`, { headers });
      expect(again.status).toBe(410);
      expect(again.headers.get("location")).toBeNull();
      expect((await again.json()).message).toMatch(USED_UP);
    }
  });

  it("each signed URL the link hands out is a counted, logged use, asked for with a Range or not", async () => {
    const email = uniqueEmail("redirect-multi");
    const { product, asset } = await h.ownedProduct(email, "redirected bytes");
    const { token } = await h.token({ email, product: product.slug, maxUses: 2 });

    for (const range of ["bytes=0-3", "bytes=4-"]) {
      const res = await h.request(`/d/${token}/${asset.id}`, { headers: { range } });
      expect({ range, status: res.status }).toEqual({ range, status: 302 });
    }
    const third = await h.request(`/d/${token}/${asset.id}`, { headers: { range: "bytes=4-" } });
    expect(third.status).toBe(410);
    expect((await third.json()).message).toMatch(USED_UP);
    const res = await h.admin(`/api/admin/downloads?email=${encodeURIComponent(email)}`);
    expect(((await res.json()) as { downloads: unknown[] }).downloads).toHaveLength(2);
  });
});
