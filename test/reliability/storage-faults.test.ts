import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { type S3TestServer, startS3Server } from "../support/s3-server.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

const UNREACHABLE = /File storage is not reachable right now/;

/**
 * The bucket goes away (S3 down, or a network that swallows requests) while buyers download in
 * proxy mode: they get a 503 that says so, in time, and nothing is counted against their link.
 * (In redirect mode the app never talks to the bucket on a download: it only signs a URL.)
 */
describe.each(dialects)("downloads while the storage is unreachable, on %s", (dialect) => {
  let s3: S3TestServer;
  let proxy: TcpProxy;
  let h: Harness;
  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(s3.url).port) });
    h = await makeHarness(dialect, {
      STORAGE_URL: "s3://bucket",
      S3_ENDPOINT: `http://${proxy.host}:${proxy.port}`,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      DELIVERY_MODE: "proxy",
    });
  });
  afterAll(async () => {
    await h.close();
    await proxy.close();
    await s3.close();
  });

  let counter = 0;
  const email = () => `storage-${dialect}-${++counter}@example.com`;
  const downloadsOf = async (who: string) =>
    (await (await h.admin(`/api/admin/downloads?email=${encodeURIComponent(who)}`)).json())
      .downloads as unknown[];

  /** A GET that must be answered within `withinMs`, or the test says it hung. */
  async function timedGet(path: string, init: RequestInit & { cookie?: string } = {}) {
    const started = Date.now();
    const res = await Promise.race([
      h.request(path, init),
      new Promise<never>((_, fail) =>
        setTimeout(() => fail(new Error(`GET ${path} hung for 30 s`)), 30_000),
      ),
    ]);
    return { res, ms: Date.now() - started };
  }

  it.each([
    ["down (connections refused)", (p: TcpProxy) => p.cut()],
    ["a black hole (connections never answered)", (p: TcpProxy) => p.hang()],
  ])(
    "storage %s: 503 in words, the link's only use is kept, and it works once storage is back",
    async (_, fail) => {
      const buyer = email();
      const { product, asset } = await h.ownedProduct(buyer, "bytes from the bucket");
      const { token } = await h.token({ email: buyer, product: product.slug, maxUses: 1 });
      const cookie = await h.signIn(buyer);

      fail(proxy);
      try {
        const [viaToken, signedIn, page] = await Promise.all([
          timedGet(`/d/${token}/${asset.id}`),
          timedGet(`/download/${product.slug}/${asset.id}`, { cookie }),
          // A person gets a page, not JSON.
          timedGet(`/d/${token}/${asset.id}`, { headers: { accept: "text/html" } }),
        ]);
        expect(viaToken.res.status).toBe(503);
        expect(await viaToken.res.json()).toMatchObject({
          code: "unavailable",
          message: expect.stringMatching(UNREACHABLE),
        });
        expect(signedIn.res.status).toBe(503);
        expect(page.res.status).toBe(503);
        const html = await page.res.text();
        expect(html).toMatch(UNREACHABLE);
        expect(html).not.toMatch(/"code"|at .*\.ts:\d+/);
        // The page listing the link's files needs no storage and still says one use is left.
        const listing = await h.request(`/d/${token}`, { headers: { accept: "text/html" } });
        expect(listing.status).toBe(200);
        // The store's silence is cut short: 10 s to start answering, and no second try.
        for (const { ms } of [viaToken, signedIn, page]) expect(ms).toBeLessThan(15_000);
      } finally {
        proxy.restore();
      }

      expect(await downloadsOf(buyer)).toHaveLength(0);
      const res = await h.request(`/d/${token}/${asset.id}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("bytes from the bucket");
      const again = await h.request(`/d/${token}/${asset.id}`);
      expect(again.status).toBe(410);
      await again.arrayBuffer();
      expect(await downloadsOf(buyer)).toHaveLength(1);
    },
    60_000,
  );

  it("/readyz reports the storage as down, and ready again when it returns", async () => {
    proxy.cut();
    try {
      const res = await h.request("/readyz");
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.checks).toContainEqual(
        expect.objectContaining({ name: "storage", ok: false, error: expect.any(String) }),
      );
      expect(body.checks).toContainEqual({ name: "database", ok: true });
    } finally {
      proxy.restore();
    }
    expect((await h.request("/readyz")).status).toBe(200);
  });
});
