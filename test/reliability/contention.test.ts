import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects, freshDatabase, type TestDatabase } from "../support/databases.ts";
import { ADMIN_TOKEN } from "../support/harness.ts";
import { type RunningServer, startServer } from "../support/server.ts";
import { type ShopClient, shopClient } from "../support/shop-client.ts";

const USED_UP = /used as many times/;

/**
 * The scaled-out shape: two server processes on one database. 200 buyers' requests for a 5-use
 * link arrive at once, spread over both processes: exactly 5 get the file, the others a 410
 * that says the link is used up, and the log has 5 downloads. (test/http/tokens.test.ts races
 * the same link inside one process.)
 */
describe.each(dialects)(
  "a 5-use link raced by 200 requests across two server processes, on %s",
  (dialect) => {
    let database: TestDatabase | null = null;
    let servers: RunningServer[] = [];
    let shop: ShopClient;

    beforeAll(async () => {
      database = dialect === "postgres" ? await freshDatabase("postgres") : null;
      const env = {
        ADMIN_TOKEN,
        SESSION_SECRET: "s".repeat(40),
        // No payments here: point Stripe nowhere, so neither process starts a local one.
        STRIPE_API_URL: "http://127.0.0.1:9",
        ...(database ? { DATABASE_URL: database.url } : {}),
      };
      const first = await startServer([], env);
      // The second shares the first's folder: the same SQLite file (or schema), files and secrets.
      const second = await startServer([], env, first.dir);
      servers = [first, second];
      shop = shopClient(first.url, ADMIN_TOKEN);
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await database?.drop();
    });

    it("exactly 5 downloads, 195 refusals in words, 5 log rows", async () => {
      const email = `race-${dialect}@example.com`;
      const slug = `race-${dialect}`;
      const content = "raced bytes ".repeat(20_000);
      await shop.createProduct(slug);
      const asset = await shop.upload(slug, "race.zip", content);
      await shop.grant(email, slug);
      const { token } = await shop.token({ email, product: slug, maxUses: 5 });

      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const server = servers[i % 2] as RunningServer;
          const res = await fetch(`${server.url}/d/${token}/${asset.id}`);
          return { status: res.status, body: await res.text() };
        }),
      );
      const byStatus: Record<number, number> = {};
      for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      expect(byStatus).toEqual({ 200: 5, 410: 195 });
      for (const r of results.filter((r) => r.status === 200)) expect(r.body).toBe(content);
      for (const r of results.filter((r) => r.status === 410))
        expect(JSON.parse(r.body).message).toMatch(USED_UP);

      const log = await shop.admin(`/api/admin/downloads?email=${encodeURIComponent(email)}`);
      const { downloads } = (await log.json()) as { downloads: { via: string }[] };
      expect(downloads.filter((d) => d.via === "token")).toHaveLength(5);
      for (const server of servers) {
        const again = await fetch(`${server.url}/d/${token}/${asset.id}`);
        expect(again.status).toBe(410);
        await again.arrayBuffer();
      }
    });

    it("ranges raced across both processes take no more than one file from a 1-use link's use", async () => {
      const email = `range-race-${dialect}@example.com`;
      const slug = `range-race-${dialect}`;
      const content = "0123456789".repeat(1000);
      await shop.createProduct(slug);
      const asset = await shop.upload(slug, "race.zip", content);
      await shop.grant(email, slug);
      const { token } = await shop.token({ email, product: slug, maxUses: 1 });
      const first = await fetch(`${servers[0]?.url}/d/${token}/${asset.id}`, {
        headers: { range: "bytes=0-4999" },
      });
      expect(first.status).toBe(206);
      await first.arrayBuffer();

      // 5000 bytes are left; each range asks for 2000, so two fit and the rest are new uses.
      const results = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const server = servers[i % 2] as RunningServer;
          const res = await fetch(`${server.url}/d/${token}/${asset.id}`, {
            headers: { range: `bytes=${5000 + (i % 3) * 1000}-${6999 + (i % 3) * 1000}` },
          });
          return { status: res.status, body: await res.text() };
        }),
      );
      const byStatus: Record<number, number> = {};
      for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      expect(byStatus).toEqual({ 206: 2, 410: 98 });
      for (const r of results.filter((r) => r.status === 410))
        expect(JSON.parse(r.body).message).toMatch(USED_UP);

      const log = await shop.admin(`/api/admin/downloads?email=${encodeURIComponent(email)}`);
      const { downloads } = (await log.json()) as { downloads: unknown[] };
      expect(downloads).toHaveLength(1);
    });
  },
);
