import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "../../support/harness.ts";
import { LONG, rssMiB } from "../../support/reliability.ts";
import { type RunningServer, startServer } from "../../support/server.ts";
import { type ShopClient, shopClient } from "../../support/shop-client.ts";
import { payOnHostedPage, waitFor } from "../../support/stripe.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
/** Memory readings from the first part of the run are the process warming up, not a trend. */
const WARM_UP_SECONDS = Math.min(60, SECONDS / 5);
/** How far resident memory may rise from after the warm-up to the end. Generous on purpose:
 * the GC keeps what it likes; a leak of even 1 KB a request would pass it within minutes. */
const MAX_GROWTH_MIB = 64;
const MiB = 1024 * 1024;

/**
 * Five minutes of a shop's ordinary day against a real server process (SQLite, local files, the
 * local Stripe it runs beside itself): people browse, sign in, open their library, download
 * through their session and through links, and buy, with the local Stripe delivering the
 * webhooks. Nothing may fail, and the server's resident memory must stay flat.
 */
describe.skipIf(!LONG)(`soak: ${SECONDS} s of mixed traffic`, () => {
  let server: RunningServer;
  let shop: ShopClient;
  beforeAll(async () => {
    server = await startServer([], { ADMIN_TOKEN });
    shop = shopClient(server.url, ADMIN_TOKEN);
  });
  afterAll(() => server?.stop());

  it(
    "every request answered without a 5xx, every purchase granted, memory flat",
    async () => {
      const file = new Uint8Array(randomBytes(256 * 1024));
      const products: { slug: string; assetId: string }[] = [];
      for (let i = 0; i < 3; i++) {
        const { slug } = await shop.createProduct(`soak-${i}`, {
          price: { amount: 900 + i, currency: "usd" },
        });
        const asset = await shop.upload(slug, `soak-${i}.bin`, file);
        products.push({ slug, assetId: asset.id });
      }
      const owner = "regular@soak.test";
      for (const p of products) await shop.grant(owner, p.slug);
      const { token } = await shop.token({ email: owner, product: products[0]?.slug });
      let cookie = await shop.signIn(owner);

      const counts: Record<string, number> = {};
      const failures: string[] = [];
      const purchases: string[] = [];
      let bytes = 0;
      const count = (what: string, status: number | string) => {
        const key = `${what} ${status}`;
        counts[key] = (counts[key] ?? 0) + 1;
        if (typeof status === "string" || status >= 500) failures.push(key);
      };
      const get = async (
        what: string,
        path: string,
        expected: number[],
        init: RequestInit = {},
      ) => {
        try {
          const res = await fetch(`${server.url}${path}`, { redirect: "manual", ...init });
          bytes += (await res.arrayBuffer()).byteLength;
          count(what, res.status);
          if (!expected.includes(res.status)) failures.push(`${what} ${path}: ${res.status}`);
        } catch (error) {
          count(what, String((error as { cause?: { code?: string } }).cause?.code ?? error));
        }
      };
      const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)] as T;

      const actions: [number, () => Promise<void>][] = [
        [30, () => get("storefront", "/", [200], { headers: { accept: "text/html" } })],
        [20, () => get("product page", `/p/${pick(products).slug}`, [200])],
        [5, () => get("stylesheet", "/assets/app.css", [200])],
        [10, () => get("library", "/library", [200], { headers: { cookie, accept: "text/html" } })],
        [5, () => get("library api", "/api/library", [200], { headers: { cookie } })],
        [
          10,
          () => {
            const p = pick(products);
            return get("download", `/download/${p.slug}/${p.assetId}`, [200], {
              headers: { cookie },
            });
          },
        ],
        [8, () => get("token download", `/d/${token}/${products[0]?.assetId}`, [200])],
        [
          4,
          () =>
            get("ranged download", `/d/${token}/${products[0]?.assetId}`, [206], {
              headers: { range: "bytes=1000-" },
            }),
        ],
        [
          5,
          () =>
            get("not signed in", `/download/${products[0]?.slug}/${products[0]?.assetId}`, [401]),
        ],
        [3, () => get("readyz", "/readyz", [200])],
      ];
      const total = actions.reduce((sum, [w]) => sum + w, 0);
      const randomAction = () => {
        let r = Math.random() * total;
        for (const [w, action] of actions) {
          r -= w;
          if (r < 0) return action;
        }
        return actions[0]?.[1] as () => Promise<void>;
      };

      const startedAt = Date.now();
      const endAt = startedAt + SECONDS * 1000;
      const samples: { at: number; rss: number }[] = [];
      const sample = async () =>
        samples.push({ at: (Date.now() - startedAt) / 1000, rss: await rssMiB(server.pid) });
      await sample();

      const browsing = Array.from({ length: 6 }, async () => {
        while (Date.now() < endAt) await randomAction()();
      });
      // A purchase every 3 s, paid on the local Stripe's page; its webhooks come by themselves.
      const buying = (async () => {
        for (let n = 0; Date.now() < endAt; n++) {
          try {
            const email = `buyer-${n}@soak.test`;
            const { url } = await shop.startCheckout(pick(products).slug);
            const paid = await payOnHostedPage(url, { email });
            count("purchase", paid.status);
            if (paid.status === 303) purchases.push(email);
          } catch (error) {
            count("purchase", String(error));
          }
          await new Promise((r) => setTimeout(r, 3000));
        }
      })();
      // Someone signs in every 20 s, within the limits (per address 5, per IP 30 in 15 minutes).
      const signingIn = (async () => {
        for (let n = 0; n < 25 && Date.now() < endAt - 20_000; n++) {
          await new Promise((r) => setTimeout(r, 20_000));
          try {
            // Now and then the regular signs in again (a new session); others have no purchases.
            const email = n % 4 === 3 && n < 16 ? owner : `visitor-${n}@soak.test`;
            const session = await shop.signIn(email);
            if (email === owner) cookie = session;
            count("sign in", 303);
          } catch (error) {
            count("sign in", String(error));
          }
        }
      })();
      const sampling = (async () => {
        while (Date.now() < endAt) {
          await new Promise((r) => setTimeout(r, 5000));
          await sample();
        }
      })();
      await Promise.all([...browsing, buying, signingIn, sampling]);

      // Every purchase's webhook landed: its buyer owns the product.
      await waitFor(
        async () => {
          const res = await shop.admin("/api/admin/orders?limit=1000");
          const { orders } = (await res.json()) as {
            orders: { email: string | null; status: string }[];
          };
          const paid = new Set(orders.filter((o) => o.status === "paid").map((o) => o.email));
          return purchases.every((e) => paid.has(e));
        },
        "every purchase to be paid",
        30_000,
      );

      const requests = Object.values(counts).reduce((a, b) => a + b, 0);
      const settled = samples.filter((s) => s.at >= WARM_UP_SECONDS);
      const median = (xs: number[]) =>
        [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
      const window = Math.max(1, Math.floor(settled.length / 5));
      const startRss = median(settled.slice(0, window).map((s) => s.rss));
      const endRss = median(settled.slice(-window).map((s) => s.rss));
      const peakRss = Math.max(...samples.map((s) => s.rss));
      console.log(
        [
          `soak: ${SECONDS} s, ${requests} requests (${Math.round(requests / SECONDS)}/s), ${Math.round(bytes / MiB)} MiB downloaded, ${purchases.length} purchases`,
          `  RSS: ${samples[0]?.rss.toFixed(1)} MiB at start, ${startRss.toFixed(1)} MiB after ${WARM_UP_SECONDS} s warm-up, ${endRss.toFixed(1)} MiB at the end (${(endRss - startRss).toFixed(1)} MiB), peak ${peakRss.toFixed(1)} MiB`,
          `  samples (s: MiB): ${samples.map((s) => `${Math.round(s.at)}:${Math.round(s.rss)}`).join(" ")}`,
          `  ${JSON.stringify(counts)}`,
        ].join("\n"),
      );
      expect(failures.slice(0, 20)).toEqual([]);
      expect(purchases.length).toBeGreaterThan(0);
      expect(endRss - startRss).toBeLessThan(MAX_GROWTH_MIB);
    },
    (SECONDS + 120) * 1000,
  );
});
