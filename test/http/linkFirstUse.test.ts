import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../src/core/ports.ts";
import { formatDate } from "../../src/pages/format.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const html = { accept: "text/html,application/xhtml+xml" };
const HOUR = 60 * 60 * 1000;
let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

/** The visible text of a page, without tags. */
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, " ");

describe.each(dialects)("links that start when they are used, on %s", (dialect) => {
  let h: Harness;
  const logged: { message: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = {
    info: (message, fields = {}) => logged.push({ message, fields }),
    warn() {},
    error() {},
  };
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { log });
  });
  afterAll(() => h.close());

  /** A product owned by a new buyer, and a link to it with these terms. */
  async function linkWith(terms: Record<string, unknown>, content = "first-use bytes") {
    const email = uniqueEmail("window");
    const { product, asset } = await h.ownedProduct(email, content);
    const res = await h.admin("/api/admin/tokens", {
      method: "POST",
      json: { email, product: product.slug, ...terms },
    });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    return { email, product, asset, token };
  }

  /** A download through the link, read to its end; its status and bytes. */
  async function download(token: string, assetId: string) {
    const res = await h.request(`/d/${token}/${assetId}`);
    return { status: res.status, body: await res.text() };
  }

  async function pageText(token: string) {
    const res = await h.request(`/d/${token}`, { headers: html });
    return { status: res.status, text: textOf(await res.text()) };
  }

  const row = (token: string) =>
    h.deps.db
      .selectFrom("delivery_tokens")
      .select(["first_used_at", "expires_at", "expires_after_first_use"])
      .where("id", "=", tokenIdOf(token))
      .executeTakeFirstOrThrow();
  const ids = new Map<string, string>();
  const tokenIdOf = (token: string) => ids.get(token) ?? "";
  /** Remembers a link's row id: the newest row of this buyer's links. */
  async function remember(token: string, email: string) {
    const found = await h.deps.db
      .selectFrom("delivery_tokens as t")
      .innerJoin("entitlements as e", "e.id", "t.entitlement_id")
      .select("t.id")
      .where("e.email", "=", email)
      .orderBy("t.created_at", "desc")
      .executeTakeFirstOrThrow();
    ids.set(token, found.id);
  }

  it("works 72 hours from its first download: at +71 h yes, at +73 h no, whenever that first download came", async () => {
    const { email, product, asset, token } = await linkWith({
      expiresIn: "30d",
      expiresAfterFirstUse: "72h",
    });
    await remember(token, email);

    const before = await pageText(token);
    expect(before.status).toBe(200);
    expect(before.text).toContain("This private link works for 3 days from your first download");
    expect(before.text).not.toContain("works until");
    // The seller's list of links says the same.
    const sellerRow = async () => {
      const page = textOf(await (await h.admin(`/admin/tokens?email=${email}`)).text());
      return page.slice(page.indexOf("Recent download links"));
    };
    expect(await sellerRow()).toContain("3 days after first use (not used yet; by");

    // Unused for ten days: the window has not started, so the link still works.
    h.clock.advance(10 * 24 * HOUR);
    expect(await download(token, asset.id)).toEqual({ status: 200, body: "first-use bytes" });
    const started = await row(token);
    expect(started.first_used_at).not.toBeNull();
    expect(started.expires_at).toBe(Number(started.first_used_at) + 72 * HOUR);

    const after = await pageText(token);
    expect(after.text).toContain(`This private link works until ${formatDate(started.expires_at)}`);
    expect(after.text).not.toContain("from your first download");
    expect((await sellerRow()).replace(/\s+\)/g, ")")).toContain(
      `${formatDate(started.expires_at)} (first used ${formatDate(Number(started.first_used_at))})`,
    );

    h.clock.advance(71 * HOUR);
    expect((await download(token, asset.id)).status).toBe(200);
    expect((await row(token)).first_used_at).toBe(started.first_used_at);

    h.clock.advance(2 * HOUR);
    const late = await download(token, asset.id);
    expect(late.status).toBe(410);
    expect(late.body).toMatch(/expired or is not valid/);
    // People get today's expired page, with its next step.
    const expired = await h.request(`/d/${token}`, { headers: html });
    expect(expired.status).toBe(410);
    const expiredText = textOf(await expired.text());
    expect(expiredText).toContain("This download link has expired");
    expect(expiredText).toContain(product.name);
    expect(expiredText).toContain("Send me a fresh link");
  });

  it("never works past its absolute expiry, even inside the window", async () => {
    const { email, asset, token } = await linkWith({
      expiresIn: "48h",
      expiresAfterFirstUse: "24h",
    });
    await remember(token, email);
    const absolute = (await row(token)).expires_at;

    const before = await pageText(token);
    expect(before.text).toContain(
      `works for 24 hours from your first download, and not after ${formatDate(absolute)}`,
    );

    h.clock.advance(30 * HOUR);
    expect((await download(token, asset.id)).status).toBe(200);
    // First use + 24 h would be +54 h: the absolute +48 h comes first and stays.
    const used = await row(token);
    expect(used.first_used_at).not.toBeNull();
    expect(used.expires_at).toBe(absolute);
    expect((await pageText(token)).text).toContain(
      `This private link works until ${formatDate(absolute)}`,
    );

    h.clock.advance(17 * HOUR);
    expect((await download(token, asset.id)).status).toBe(200);
    h.clock.advance(2 * HOUR);
    expect((await download(token, asset.id)).status).toBe(410);
  });

  it("a window longer than what is left says only the absolute end", async () => {
    const { asset, token } = await linkWith({ expiresIn: "24h", expiresAfterFirstUse: "72h" });
    const page = await pageText(token);
    expect(page.text).toContain("This private link works until");
    expect(page.text).not.toContain("from your first download");
    h.clock.advance(25 * HOUR);
    expect((await download(token, asset.id)).status).toBe(410);
  });

  it("records the first use once when several first downloads come at the same moment", async () => {
    const { email, asset, token } = await linkWith({
      expiresIn: "30d",
      expiresAfterFirstUse: "72h",
    });
    await remember(token, email);
    const id = tokenIdOf(token);
    // A look (HEAD) is not a download: the window does not start.
    const head = await h.request(`/d/${token}/${asset.id}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect((await row(token)).first_used_at).toBeNull();

    const results = await Promise.all(Array.from({ length: 8 }, () => download(token, asset.id)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const firstUses = logged.filter(
      (l) => l.message === "download link first used" && l.fields.tokenId === id,
    );
    expect(firstUses).toHaveLength(1);
    const stored = await row(token);
    expect(stored.expires_at).toBe(Number(stored.first_used_at) + 72 * HOUR);
  });

  it("refuses a bad window with a 400 that names it, and makes no link", async () => {
    const email = uniqueEmail("bad");
    const { product } = await h.ownedProduct(email);
    const count = async () =>
      Number(
        (
          await h.deps.db
            .selectFrom("delivery_tokens")
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    for (const bad of ["soon", "0h", "-1h", "72 hours", "400d", "", 0, -5, 1.5, true, {}]) {
      const res = await h.admin("/api/admin/tokens", {
        method: "POST",
        json: { email, product: product.slug, expiresAfterFirstUse: bad },
      });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_input");
      expect(body.message, JSON.stringify(bad)).toMatch(/expiresAfterFirstUse/);
    }
    expect(await count()).toBe(before);

    // null (or leaving it out) is a link that only its absolute time ends, as before.
    const plain = await h.admin("/api/admin/tokens", {
      method: "POST",
      json: { email, product: product.slug, expiresIn: "1h", expiresAfterFirstUse: null },
    });
    expect(plain.status).toBe(201);
    const { token } = (await plain.json()) as { token: string };
    expect((await pageText(token)).text).toContain("This private link works until");
  });
});
