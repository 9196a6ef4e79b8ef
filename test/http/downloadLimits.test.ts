import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import pg from "pg";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPEAT_WINDOW_MS } from "../../src/core/downloads/limits.ts";
import * as z from "../../src/core/zod.ts";
import { responses } from "../../src/http/openapi/responses.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";
import { shopClient } from "../support/shop-client.ts";
import { payOnHostedPage, signature } from "../support/stripe.ts";

type Server = { url: string; close(): Promise<void> };

/** The harness's app on a real port on 127.0.0.1, for concurrent and broken-off transfers. */
async function listen(h: Harness): Promise<Server> {
  const server = await new Promise<ReturnType<typeof serve>>((done) => {
    const s = serve({ fetch: h.runtime.app.fetch, port: 0, hostname: "127.0.0.1" }, () => done(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

describe.each(dialects)("download limits on %s (proxy mode)", (dialect) => {
  let h: Harness;
  let server: Server;
  let stripe: Stripe;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: "manual" });
    server = await listen(h);
    const url = new URL(h.runtime.localStripeUrl as string);
    stripe = new Stripe("sk_test_local", { host: url.hostname, port: url.port, protocol: "http" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  /** A product with `limit` downloads per file, its files, and a signed-in buyer who owns it. */
  async function limited(limit: number | null, files: Record<string, string | Uint8Array>) {
    const product = await h.createProduct({ name: "Icon Kit" });
    if (limit !== null) {
      const set = await h.admin(`/api/admin/products/${product.slug}`, {
        method: "PATCH",
        json: { downloadLimit: limit },
      });
      expect(set.status, await set.clone().text()).toBe(200);
      expect(((await set.json()) as { downloadLimit: number }).downloadLimit).toBe(limit);
    }
    const assets = [];
    for (const [name, bytes] of Object.entries(files))
      assets.push(
        await h.upload(
          product.slug,
          name,
          typeof bytes === "string" ? bytes : new Uint8Array(bytes),
        ),
      );
    const email = uniqueEmail("buyer");
    await h.grant(email, product.slug);
    const cookie = await h.signIn(email);
    return { product, assets, email, cookie };
  }

  const used = async (assetId: string) => {
    const rows = await h.deps.db
      .selectFrom("download_counts")
      .select("used")
      .where("asset_id", "=", assetId)
      .execute();
    return rows.reduce((sum, r) => sum + Number(r.used), 0);
  };
  const get = (cookie: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { headers: { cookie, ...headers } });
  /** A whole download (a count happens as the last byte goes out): its status. */
  const download = async (cookie: string, path: string) => {
    const res = await get(cookie, path);
    await res.arrayBuffer();
    return res.status;
  };

  it("a limit of 2 holds under many concurrent downloads; each burst within the window is one download", async () => {
    const { product, assets, cookie } = await limited(2, { "icons.zip": "icon bytes" });
    const asset = assets[0] as { id: string };
    const path = `/download/${product.slug}/${asset.id}`;
    const burst = () =>
      Promise.all(
        Array.from({ length: 12 }, async () => {
          const res = await get(cookie, path);
          return { status: res.status, body: await res.text() };
        }),
      );
    // First burst: all served whole, counted once.
    const first = await burst();
    expect(first.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(new Set(first.map((r) => r.body))).toEqual(new Set(["icon bytes"]));
    expect(await used(asset.id)).toBe(1);
    // Past the window: a second download, still allowed, also counted once.
    h.clock.advance(REPEAT_WINDOW_MS + 1000);
    const second = await burst();
    expect(second.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(await used(asset.id)).toBe(2);
    // Past the window again: none left, every request refused, nothing counted or logged.
    h.clock.advance(REPEAT_WINDOW_MS + 1000);
    const logged = await downloadRows(asset.id);
    const third = await burst();
    expect(third.map((r) => r.status)).toEqual(Array(12).fill(403));
    expect(third[0]?.body).toContain("You have downloaded icons.zip twice");
    expect(await used(asset.id)).toBe(2);
    expect(await downloadRows(asset.id)).toBe(logged);
  });

  async function downloadRows(assetId: string) {
    await h.runtime.settle();
    const row = await h.deps.db
      .selectFrom("downloads")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("asset_id", "=", assetId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it("ranges that do not reach the end count nothing; the one that sends the last byte counts once, and a repeat within the window is free", async () => {
    const { product, assets, cookie } = await limited(1, { "manual.pdf": "0123456789" });
    const asset = assets[0] as { id: string };
    const path = `/download/${product.slug}/${asset.id}`;
    const head = await get(cookie, path, { range: "bytes=0-4" });
    expect(head.status).toBe(206);
    expect(await head.text()).toBe("01234");
    expect(await used(asset.id)).toBe(0);
    const tail = await get(cookie, path, { range: "bytes=5-" });
    expect(tail.status).toBe(206);
    expect(await tail.text()).toBe("56789");
    expect(await used(asset.id)).toBe(1);
    // A double click a minute later: the same download.
    h.clock.advance(60_000);
    const again = await get(cookie, path);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe("0123456789");
    expect(await used(asset.id)).toBe(1);
    // After the window, the limit of 1 is used up.
    h.clock.advance(REPEAT_WINDOW_MS);
    const refused = await get(cookie, path);
    expect(refused.status).toBe(403);
  });

  it("a download broken off mid-stream does not count; a completed one does", async () => {
    const big = new Uint8Array(24 * 1024 * 1024).fill(7);
    const { product, assets, cookie } = await limited(1, { "video.mp4": big });
    const asset = assets[0] as { id: string };
    const path = `/download/${product.slug}/${asset.id}`;
    const controller = new AbortController();
    const res = await fetch(`${server.url}${path}`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    await new Promise((done) => setTimeout(done, 300));
    expect(await used(asset.id)).toBe(0);
    const whole = await get(cookie, path);
    expect(whole.status).toBe(200);
    expect((await whole.arrayBuffer()).byteLength).toBe(big.byteLength);
    expect(await used(asset.id)).toBe(1);
  });

  it("each file counts on its own, and the library shows what is left of each", async () => {
    const { product, assets, cookie } = await limited(2, { "a.txt": "alpha", "b.txt": "bravo" });
    const [a, b] = assets as unknown as [{ id: string }, { id: string }];
    expect(await download(cookie, `/download/${product.slug}/${a.id}`)).toBe(200);
    expect(await used(a.id)).toBe(1);
    expect(await used(b.id)).toBe(0);
    const res = await h.request("/api/library", { cookie });
    const library = (await res.json()) as {
      items: { product: { slug: string }; files: { id: string; downloadsLeft: number | null }[] }[];
    };
    expect(z.safeParse(responses.Library, library).success).toBe(true);
    const item = library.items.find((i) => i.product.slug === product.slug);
    expect(item?.files.map((f) => [f.id, f.downloadsLeft])).toEqual([
      [a.id, 1],
      [b.id, 2],
    ]);
    const page = await (await h.request("/library", { cookie })).text();
    expect(page).toContain("1 download left");
    expect(page).toContain("2 downloads left");
  });

  it("a product without a limit downloads without end and counts nothing", async () => {
    const { product, assets, cookie } = await limited(null, { "free.txt": "free" });
    const asset = assets[0] as { id: string };
    for (let i = 0; i < 5; i++) {
      h.clock.advance(REPEAT_WINDOW_MS + 1);
      expect(await download(cookie, `/download/${product.slug}/${asset.id}`)).toBe(200);
    }
    expect(await used(asset.id)).toBe(0);
    const library = (await (await h.request("/api/library", { cookie })).json()) as {
      items: { product: { slug: string }; files: { downloadsLeft: number | null }[] }[];
    };
    const item = library.items.find((i) => i.product.slug === product.slug);
    expect(item?.files[0]?.downloadsLeft).toBeNull();
  });

  it("refuses over the limit in plain words with a next step, as JSON and as a page", async () => {
    const saved = await h.admin("/api/admin/shop", {
      method: "PUT",
      json: { name: "Shop", supportEmail: "help@shop.test", timeZone: "UTC" },
    });
    expect(saved.status, await saved.clone().text()).toBe(200);
    const { product, assets, cookie } = await limited(1, { "icons.zip": "x" });
    const asset = assets[0] as { id: string };
    const path = `/download/${product.slug}/${asset.id}`;
    expect(await download(cookie, path)).toBe(200);
    h.clock.advance(REPEAT_WINDOW_MS + 1);
    const json = await h.request(path, { cookie });
    expect(json.status).toBe(403);
    const body = (await json.json()) as { code: string; message: string };
    expect(body.code).toBe("forbidden");
    expect(body).toMatchObject({ reason: "download_limit", downloadLimit: 1, downloadsLeft: 0 });
    expect(body.message).toBe(
      "You have downloaded icons.zip once, the most this product allows. Ask the seller to reset it: write to help@shop.test.",
    );
    const page = await h.request(path, { cookie, headers: { accept: "text/html" } });
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain("You have downloaded icons.zip once, the most this product allows.");
    expect(html).toContain("help@shop.test");
    expect(html).toContain('href="/library"');
    // A HEAD (what "download all" checks first) is refused the same way.
    expect((await h.request(path, { cookie, method: "HEAD" })).status).toBe(403);
  });

  it("rejects a bad limit and changes nothing", async () => {
    const product = await h.createProduct();
    for (const downloadLimit of [0, -1, 2.5, "5", 10_001]) {
      const res = await h.admin(`/api/admin/products/${product.slug}`, {
        method: "PATCH",
        json: { downloadLimit },
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.message).toMatch(/^downloadLimit: /);
    }
    const shown = (await (await h.admin(`/api/admin/products/${product.slug}`)).json()) as {
      downloadLimit: number | null;
    };
    expect(shown.downloadLimit).toBeNull();
  });

  it("a link's maxUses still counts each use, limit or not", async () => {
    const { product, assets, email } = await limited(5, { "kit.zip": "kit" });
    const asset = assets[0] as { id: string };
    const link = await h.token({ email, product: product.slug, expiresIn: "1h", maxUses: 2 });
    const open = () => fetch(`${link.url.replace(PUBLIC_URL, server.url)}/${asset.id}`);
    for (const status of [200, 200, 410]) {
      const res = await open();
      await res.arrayBuffer();
      expect(res.status).toBe(status);
    }
    // Two uses of the link within the window were one download of the file.
    expect(await used(asset.id)).toBe(1);
  });

  /** Posts the newest event of this type about `about`, signed. */
  async function deliver(type: string, about: string) {
    const event = (
      await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 })
    ).find((e) => e.type === type && JSON.stringify(e.data.object).includes(about));
    if (!event) throw new Error(`no ${type} event about ${about}`);
    const body = JSON.stringify(event);
    const res = await h.request("/webhooks/stripe", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": signature(body, { timestamp: Math.floor(h.clock.time / 1000) }),
      },
      body,
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }

  it("the seller resets one order's count: the buyer may download again, and the history says so", async () => {
    const product = await h.productOnSale({ name: "Font Pack", downloadLimit: 1 });
    const asset = await h.upload(product.slug, "font.otf", "glyphs");
    const email = uniqueEmail("reset");
    const started = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const { url, sessionId, orderId } = (await started.json()) as {
      url: string;
      sessionId: string;
      orderId: string;
    };
    expect((await payOnHostedPage(url, { email })).status).toBe(303);
    await deliver("checkout.session.completed", sessionId);
    const cookie = await h.signIn(email);
    const path = `/download/${product.slug}/${asset.id}`;
    expect(await download(cookie, path)).toBe(200);
    h.clock.advance(REPEAT_WINDOW_MS + 1);
    expect(await download(cookie, path)).toBe(403);

    const counts = await h.admin(`/api/admin/orders/${orderId}/downloads`);
    const before = await counts.json();
    expect(z.safeParse(responses.OrderDownloads, before).success).toBe(true);
    expect((before as { files: { filename: string; downloads: number }[] }).files).toEqual(
      expect.arrayContaining([
        { id: asset.id, filename: "font.otf", downloads: 1, downloadsLeft: 0 },
      ]),
    );
    const orderPage = await (await h.admin(`/admin/orders/${orderId}`)).text();
    expect(orderPage).toContain(`action="/admin/orders/${orderId}/reset-downloads"`);

    const reset = await h.admin(`/api/admin/orders/${orderId}/reset-downloads`, {
      method: "POST",
    });
    expect(reset.status).toBe(200);
    const after = await reset.json();
    expect(z.safeParse(responses.OrderDownloads, after).success).toBe(true);
    expect((after as { files: unknown[] }).files).toEqual(
      expect.arrayContaining([
        { id: asset.id, filename: "font.otf", downloads: 0, downloadsLeft: 1 },
      ]),
    );
    expect(await download(cookie, path)).toBe(200);

    const history = await h.deps.db
      .selectFrom("access_events")
      .select(["change", "by", "reason"])
      .where("product_id", "=", product.id)
      .where("change", "=", "limit_changed")
      .execute();
    expect(history).toEqual([
      { change: "limit_changed", by: "seller", reason: "Downloads reset: font.otf (1)." },
    ]);

    // The page's button does the same.
    h.clock.advance(REPEAT_WINDOW_MS + 1);
    expect(await download(cookie, path)).toBe(403);
    const form = await h.admin(`/admin/orders/${orderId}/reset-downloads`, {
      method: "POST",
      headers: { origin: PUBLIC_URL, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(form.status).toBe(303);
    expect(await download(cookie, path)).toBe(200);

    const unknown = await h.admin("/api/admin/orders/ord_nothing/reset-downloads", {
      method: "POST",
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toBe("There is no such order.");
  });

  it("the product's page in /admin shows and sets the limit", async () => {
    const product = await h.createProduct();
    const page = await (await h.admin(`/admin/products/${product.slug}`)).text();
    expect(page).toContain("Download limit");
    expect(page).toContain("no limit");
    const form = (value: string) =>
      h.admin(`/admin/products/${product.slug}/download-limit`, {
        method: "POST",
        headers: { origin: PUBLIC_URL, "content-type": "application/x-www-form-urlencoded" },
        body: `downloadLimit=${encodeURIComponent(value)}`,
      });
    expect((await form("3")).status).toBe(303);
    const saved = (await (await h.admin(`/api/admin/products/${product.slug}`)).json()) as {
      downloadLimit: number | null;
    };
    expect(saved.downloadLimit).toBe(3);
    const refused = await form("zero");
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("a whole number from 1 to 10000");
    expect((await form("")).status).toBe(303);
  });
});

describe.each(dialects)("download limits on %s (redirect mode)", (dialect) => {
  let h: Harness;
  let server: Server;
  beforeAll(async () => {
    h = await makeHarness(dialect, { DELIVERY_MODE: "redirect" });
    server = await listen(h);
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it("counts a download when its URL is handed out, once per window, under concurrency", async () => {
    const product = await h.createProduct({ downloadLimit: 1 });
    const asset = await h.upload(product.slug, "icons.zip", "icons");
    const email = uniqueEmail("redirect");
    await h.grant(email, product.slug);
    const cookie = await h.signIn(email);
    const path = `${server.url}/download/${product.slug}/${asset.id}`;
    const burst = () =>
      Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(path, { headers: { cookie }, redirect: "manual" }).then((r) => r.status),
        ),
      );
    expect(await burst()).toEqual(Array(10).fill(302));
    const rows = await h.deps.db.selectFrom("download_counts").selectAll().execute();
    expect(rows.map((r) => Number(r.used))).toEqual([1]);
    h.clock.advance(REPEAT_WINDOW_MS + 1);
    expect(await burst()).toEqual(Array(10).fill(403));
  });
});

/**
 * Two real `tollgate serve` processes on one Postgres (proxy mode, local files): downloads sent
 * to both at once never count past the limit, and a burst counts once.
 */
describe.skipIf(!dialects.includes("postgres"))("download limits with two processes", () => {
  let servers: ServerProcesses;
  beforeAll(async () => {
    servers = await startServers({ count: 2 });
  });
  afterAll(() => servers?.stop());

  it("a limit of 2 holds for concurrent downloads through both processes", async () => {
    const shop = shopClient(servers.urls[0] as string, servers.adminToken);
    await shop.createProduct("twice", { downloadLimit: 2 });
    const asset = await shop.upload("twice", "icons.zip", "icon bytes");
    const email = uniqueEmail("multi");
    await shop.grant(email, "twice");
    const link = await shop.token({ email, product: "twice", expiresIn: "1h", maxUses: null });
    const path = `${new URL(link.url).pathname}/${asset.id}`;
    const db = await freshDatabaseClient(servers.database.url);
    const used = async () =>
      (await db.query("select used from download_counts")).rows.map((r) => Number(r.used));
    // Moves the last counted download's window into the past, as time would.
    const windowPasses = () => db.query("update download_counts set window_until = 0");
    const burst = () =>
      Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const res = await fetch(`${servers.urls[i % 2]}${path}`);
          const body = await res.text();
          return res.status === 200 ? body : String(res.status);
        }),
      );
    try {
      expect(await burst()).toEqual(Array(16).fill("icon bytes"));
      expect(await used()).toEqual([1]);
      await windowPasses();
      expect(await burst()).toEqual(Array(16).fill("icon bytes"));
      expect(await used()).toEqual([2]);
      await windowPasses();
      expect(await burst()).toEqual(Array(16).fill("403"));
      expect(await used()).toEqual([2]);
    } finally {
      await db.end();
    }
  });
});

async function freshDatabaseClient(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
