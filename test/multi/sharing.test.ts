import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";
import { shopClient } from "../support/shop-client.ts";

/**
 * Sharing detection (decision 0028) with two real `tollgate serve` processes on one Postgres:
 * downloads past the threshold arrive at both at once; the buyer is flagged once and the seller
 * alerted once, and both processes then ask for the confirmation.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)(
  "sharing detection with two processes on one Postgres",
  () => {
    let servers: ServerProcesses;
    beforeAll(async () => {
      servers = await startServers({
        count: 2,
        env: {
          TRUST_PROXY: "loopback",
          ADMIN_EMAILS: "owner@shop.test",
          SHARING_DETECTION: "true",
          SHARING_NETWORKS: "2",
        },
      });
    });
    afterAll(() => servers?.stop());

    it("flags and alerts once, whichever process sees the downloads", async () => {
      const shop = shopClient(servers.urls[0] as string, servers.adminToken);
      await shop.createProduct("shared-kit");
      const asset = await shop.upload("shared-kit", "kit.zip", "kit bytes");
      const email = `sharer-${Date.now()}@example.com`;
      await shop.grant(email, "shared-kit");
      const link = await shop.token({ email, product: "shared-kit", expiresIn: "1h" });
      const path = `${new URL(link.url).pathname}/${asset.id}`;
      const get = (i: number, ip: string) =>
        fetch(`${servers.urls[i % 2]}${path}`, {
          headers: { "x-forwarded-for": ip, accept: "application/json" },
        });
      const statuses = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const res = await get(i, `198.51.${100 + i}.7`);
          await res.arrayBuffer();
          return res.status;
        }),
      );
      // Downloads already under way when the flag was set go through; none fails otherwise.
      expect(statuses.every((s) => s === 200 || s === 403)).toBe(true);
      const db = new pg.Client({ connectionString: servers.database.url });
      await db.connect();
      try {
        const alerts = await db.query(
          `select count(*)::int as n from outbox where "to" = 'owner@shop.test' and subject like '%Possibly shared%'`,
        );
        expect(alerts.rows[0].n).toBe(1);
        const flags = await db.query("select count(*)::int as n from sharing_flags");
        expect(flags.rows[0].n).toBe(1);
      } finally {
        await db.end();
      }
      // Both processes ask now: the other one sees the flag within its read cache's second.
      await new Promise((done) => setTimeout(done, 1100));
      for (const i of [0, 1]) {
        const res = await get(i, "203.0.113.1");
        expect(res.status).toBe(403);
        expect(((await res.json()) as { code: string }).code).toBe("confirm_required");
      }
    });
  },
);
