import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "../../src/core/zod.ts";
import { responses } from "../../src/http/openapi/responses.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { readZip, sha256 } from "./order-context-support.ts";

interface ReleaseJson {
  id: string;
  version: string;
  notes: string;
  notify: boolean;
  files: { id: string; filename: string; size: number; sha256: string }[];
  changes: { added: string[]; changed: string[]; removed: string[] };
  notices: { total: number; sent: number; failed: number; skipped: number } | null;
}

describe.each(dialects)("releases on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, { WEBHOOK_ALLOW_PRIVATE_URLS: "true" });
  });
  afterAll(() => h.close());

  const publish = (slug: string, json: unknown) =>
    h.admin(`/api/admin/products/${slug}/releases`, { method: "POST", json });
  const count = async () =>
    Number(
      (
        await h.deps.db
          .selectFrom("releases")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("publishes releases whose manifests say what was added, changed and removed", async () => {
    const product = await h.createProduct();
    const a = await h.upload(product.slug, "a.txt", "alpha 1");
    const b = await h.upload(product.slug, "B.txt", "bravo 1");
    const first = await publish(product.slug, { version: "1.0", notes: "# First\n\nHello." });
    expect(first.status).toBe(201);
    const r1 = (await first.json()) as ReleaseJson;
    expect(r1.version).toBe("1.0");
    expect(r1.notes).toBe("# First\n\nHello.");
    expect(r1.notify).toBe(false);
    expect(r1.notices).toBeNull();
    expect(r1.files).toEqual([
      { id: a.id, filename: "a.txt", size: 7, sha256: sha256("alpha 1") },
      { id: b.id, filename: "B.txt", size: 7, sha256: sha256("bravo 1") },
    ]);
    expect(r1.changes).toEqual({ added: ["a.txt", "B.txt"], changed: [], removed: [] });

    // a.txt changes, B.txt is retired, c.txt is new; an upload of the same bytes changes nothing.
    const a2 = await h.upload(product.slug, "a.txt", "alpha 2");
    await h.upload(product.slug, "c.txt", "charlie");
    const retired = await h.admin(`/api/admin/assets/${b.id}`, {
      method: "PATCH",
      json: { active: false },
    });
    expect(retired.status).toBe(200);
    const second = await publish(product.slug, { version: "1.1", notes: "Fixes." });
    expect(second.status).toBe(201);
    const r2 = (await second.json()) as ReleaseJson;
    expect(r2.files.map((f) => [f.filename, f.id])).toEqual([
      ["a.txt", a2.id],
      ["c.txt", expect.any(String)],
    ]);
    expect(r2.changes).toEqual({ added: ["c.txt"], changed: ["a.txt"], removed: ["B.txt"] });

    const third = await publish(product.slug, { version: "1.2" });
    const r3 = (await third.json()) as ReleaseJson;
    expect(r3.changes).toEqual({ added: [], changed: [], removed: [] });
    expect(r3.notes).toBe("");

    const list = await h.admin(`/api/admin/products/${product.slug}/releases`);
    expect(list.status).toBe(200);
    const { releases } = (await list.json()) as { releases: ReleaseJson[] };
    expect(releases.map((r) => r.version)).toEqual(["1.2", "1.1", "1.0"]);
    expect(releases[1]).toEqual(r2);
    // As the API reference describes them.
    expect(z.safeParse(responses.Releases, { releases }).success).toBe(true);
    expect(z.safeParse(responses.Release, r1).success).toBe(true);
  });

  it("refuses a duplicate version (409), bad input (400) and an unknown product (404), changing nothing", async () => {
    const product = await h.createProduct();
    await h.upload(product.slug, "a.txt", "alpha");
    expect((await publish(product.slug, { version: "2.0" })).status).toBe(201);
    const before = await count();

    const duplicate = await publish(product.slug, { version: "2.0", notes: "again" });
    expect(duplicate.status).toBe(409);
    for (const bad of [
      {},
      { version: "" },
      { version: "1.0 beta" },
      { version: "3.0", notify: "yes" },
      { version: "3.0", notes: 5 },
    ]) {
      const res = await publish(product.slug, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("invalid_input");
    }
    expect((await publish("no-such-product", { version: "1.0" })).status).toBe(404);
    expect((await h.admin("/api/admin/products/no-such-product/releases")).status).toBe(404);

    // A product without an active file has nothing to release.
    const empty = await h.createProduct();
    expect((await publish(empty.slug, { version: "1.0" })).status).toBe(400);
    expect(await count()).toBe(before);

    // Only the seller publishes.
    const cookie = await h.signIn("someone@example.com");
    const asBuyer = await h.request(`/api/admin/products/${product.slug}/releases`, {
      method: "POST",
      cookie,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ version: "9.0" }),
    });
    expect(asBuyer.status).toBe(403);
    expect(await count()).toBe(before);
  });

  it("records release.published for the seller's webhooks in the release's transaction, and nothing for a refused one", async () => {
    const endpoint = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url: "http://127.0.0.1:9/hook", events: ["release.published"] },
    });
    expect(endpoint.status).toBe(201);
    const product = await h.createProduct();
    const file = await h.upload(product.slug, "kit.zip", "kit bytes");
    const events = () =>
      h.deps.db
        .selectFrom("webhook_deliveries")
        .select(["payload"])
        .where("event_type", "=", "release.published")
        .execute();
    const before = (await events()).length;
    const published = (await (
      await publish(product.slug, { version: "4.0", notes: "Hooked." })
    ).json()) as ReleaseJson;
    expect((await publish(product.slug, { version: "4.0" })).status).toBe(409);
    const rows = await events();
    expect(rows).toHaveLength(before + 1);
    const payload = JSON.parse(rows.at(-1)?.payload as string);
    expect(payload.type).toBe("release.published");
    expect(payload.data).toMatchObject({
      releaseId: published.id,
      version: "4.0",
      notes: "Hooked.",
      productSlug: product.slug,
      files: [{ filename: "kit.zip", size: file.size, sha256: file.sha256 }],
      changes: { added: ["kit.zip"], changed: [], removed: [] },
    });
  });

  it("notify queues one update mail per address with access now, none for ended access, and counts them", async () => {
    const product = await h.createProduct();
    await h.upload(product.slug, "kit.zip", "kit");
    await h.grant("fan@example.com", product.slug);
    await h.grant("Fan@Example.com", product.slug);
    const gone = await h.grant("gone@example.com", product.slug);
    await h.admin(`/api/admin/entitlements/${gone.id}/revoke`, { method: "POST", json: {} });
    const res = await publish(product.slug, { version: "1.0", notify: true });
    expect(res.status).toBe(201);
    const r = (await res.json()) as ReleaseJson;
    expect(r.notify).toBe(true);
    expect(r.notices).toEqual({ total: 1, sent: 0, failed: 0, skipped: 0 });
    // The background sender mails it right after the commit (test/http/release-notices.test.ts).
    await h.runtime.noticesSettled();
    const rows = await h.deps.db
      .selectFrom("release_notices")
      .select(["email", "status"])
      .where("release_id", "=", r.id)
      .execute();
    expect(rows).toEqual([{ email: "fan@example.com", status: "sent" }]);
    const page = await (await h.admin(`/admin/products/${product.slug}/releases`)).text();
    expect(page).toContain("1 of 1 sent");
  });

  describe("for buyers", () => {
    let slug: string;
    let r1: ReleaseJson;
    let r2: ReleaseJson;
    let cookie: string;
    beforeAll(async () => {
      const product = await h.createProduct({ name: "Icon Kit" });
      slug = product.slug;
      await h.upload(slug, "icons.svg", "<svg>1</svg>");
      await h.upload(slug, "readme.md", "read me");
      await h.upload(slug, "old.txt", "to be removed");
      await h.grant("past@example.com", slug);
      r1 = (await (await publish(slug, { version: "1.0", notes: "First." })).json()) as ReleaseJson;
      await h.upload(slug, "icons.svg", "<svg>2</svg>");
      await h.upload(slug, "extra.png", "new png bytes");
      const old = r1.files.find((f) => f.filename === "old.txt");
      await h.admin(`/api/admin/assets/${old?.id}`, { method: "PATCH", json: { active: false } });
      r2 = (await (
        await publish(slug, {
          version: "1.1",
          notes: "## New icons\n\n- *Bolder* strokes\n\n<script>alert(1)</script>",
        })
      ).json()) as ReleaseJson;
      cookie = await h.signIn("past@example.com");
    });

    it("the library shows the current release, its notes safely, its manifest and the earlier one", async () => {
      const page = await (await h.request("/library", { cookie })).text();
      expect(page).toContain("Current release 1.1");
      expect(page).toContain("<h3>New icons</h3>");
      expect(page).toContain("<em>Bolder</em>");
      expect(page).not.toContain("<script>alert(1)</script>");
      expect(page).toContain("&lt;script&gt;");
      expect(page).toMatch(/<strong>Added<\/strong> extra\.png/);
      expect(page).toMatch(/<strong>Changed<\/strong> icons\.svg/);
      expect(page).toMatch(/<strong>Removed<\/strong> old\.txt/);
      for (const f of r2.files) expect(page).toContain(f.sha256);
      expect(page).toContain("Earlier releases (1)");
      expect(page).toContain(`action="http://shop.test/library/${slug}/releases/1.1/changes.zip"`);
      expect(page).toContain('<option value="1.0">1.0</option>');
    });

    it("GET /api/library gives the same releases: current, earlier and the changes link", async () => {
      const res = await h.request("/api/library", { cookie });
      expect(res.status).toBe(200);
      const library = (await res.json()) as {
        items: { product: { slug: string }; releases: unknown }[];
      };
      expect(z.safeParse(responses.Library, library).success).toBe(true);
      const item = library.items.find((i) => i.product.slug === slug);
      const { notify: _n1, notices: _s1, ...current } = r2;
      const { notify: _n2, notices: _s2, ...earlier } = r1;
      expect(item?.releases).toEqual({
        current,
        earlier: [earlier],
        changesUrl: `http://shop.test/library/${slug}/releases/1.1/changes.zip`,
      });
    });

    it("only what changed: one zip of the added and changed files, matching the manifest's SHA-256s, each a logged download", async () => {
      const res = await h.request(`/library/${slug}/releases/1.1/changes.zip?since=1.0`, {
        cookie,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/zip");
      expect(res.headers.get("content-disposition")).toContain(`${slug}-1.1-changes.zip`);
      const entries = readZip(new Uint8Array(await res.arrayBuffer()));
      expect(entries.map((e) => e.name)).toEqual(["extra.png", "icons.svg"]);
      const manifest = new Map(r2.files.map((f) => [f.filename, f.sha256]));
      for (const e of entries) expect(sha256(e.bytes)).toBe(manifest.get(e.name));
      expect(sha256(entries[1]?.bytes as Uint8Array)).toBe(sha256("<svg>2</svg>"));
      const logged = await h.deps.db
        .selectFrom("downloads")
        .select("asset_id")
        .where(
          "asset_id",
          "in",
          r2.files.map((f) => f.id),
        )
        .execute();
      expect(logged.map((d) => d.asset_id).sort()).toEqual(
        r2.files
          .filter((f) => f.filename !== "readme.md")
          .map((f) => f.id)
          .sort(),
      );
    });

    it("is refused to anyone without access, and says what is wrong with a bad version", async () => {
      const url = `/library/${slug}/releases/1.1/changes.zip?since=1.0`;
      expect((await h.request(url)).status).toBe(401);
      const stranger = await h.signIn("stranger@example.com");
      expect((await h.request(url, { cookie: stranger })).status).toBe(403);
      // Unknown releases are told only to owners.
      expect(
        (
          await h.request(`/library/${slug}/releases/9.9/changes.zip?since=1.0`, {
            cookie: stranger,
          })
        ).status,
      ).toBe(403);
      expect(
        (await h.request(`/library/${slug}/releases/9.9/changes.zip?since=1.0`, { cookie })).status,
      ).toBe(404);
      expect(
        (await h.request(`/library/${slug}/releases/1.1/changes.zip`, { cookie })).status,
      ).toBe(404);
      expect(
        (await h.request(`/library/${slug}/releases/1.0/changes.zip?since=1.1`, { cookie })).status,
      ).toBe(400);
      expect(
        (await h.request("/library/no-such/releases/1.1/changes.zip?since=1.0", { cookie })).status,
      ).toBe(404);
    });

    it("a buyer whose access ended sees the last release it covered, and gets no zip", async () => {
      const { entitlements } = (await (
        await h.admin("/api/admin/entitlements?email=ended@example.com")
      ).json()) as { entitlements: { id: string }[] };
      expect(entitlements).toHaveLength(0);
      const granted = await h.grant("ended@example.com", slug);
      const revoked = await h.admin(`/api/admin/entitlements/${granted.id}/revoke`, {
        method: "POST",
        json: { reason: "test" },
      });
      expect(revoked.status).toBe(200);
      await publish(slug, { version: "1.2", notes: "After." });
      const ended = await h.signIn("ended@example.com");
      const page = await (await h.request("/library", { cookie: ended })).text();
      expect(page).toContain(
        "The last release your access covered: 1.1; 1 newer need access again.",
      );
      expect(page).not.toContain("Current release");
      expect(
        (await h.request(`/library/${slug}/releases/1.1/changes.zip?since=1.0`, { cookie: ended }))
          .status,
      ).toBe(403);
    });
  });
});
