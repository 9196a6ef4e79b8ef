import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";
import { type ShopClient, shopClient } from "../support/shop-client.ts";

/** The rule of the read cache (core/readCache.ts) across processes: a second at most. */
const MAX_STALE_MS = 1000;

/**
 * Two real `tollgate serve` processes on one Postgres, each with its own read cache. Access taken
 * away through one is refused by the other within a second, and by the one that wrote it at once.
 */
// Postgres only: several processes share one database there (TEST_DATABASE_URL, as CI sets it).
describe.skipIf(!process.env.TEST_DATABASE_URL)(
  "the read cache with two processes on one Postgres",
  () => {
    let servers: ServerProcesses;
    let writer: ShopClient;
    let slug = 0;

    beforeAll(async () => {
      servers = await startServers({ count: 2, env: { DELIVERY_MODE: "redirect" } });
      writer = shopClient(servers.urls[0] as string, servers.adminToken);
    });
    afterAll(() => servers?.stop());

    /** An owner signed in, downloading from both processes until both have it cached. */
    async function warmOwner(label: string) {
      const email = `${label}-${Date.now()}@example.com`;
      const product = `cache-${label}-${++slug}`;
      await writer.createProduct(product);
      const asset = await writer.upload(product, "kit.zip", "cached bytes");
      await writer.grant(email, product);
      const cookie = await writer.signIn(email);
      const download = async (server: number) => {
        const res = await fetch(`${servers.urls[server]}/download/${product}/${asset.id}`, {
          headers: { cookie },
          redirect: "manual",
        });
        await res.arrayBuffer();
        return res.status;
      };
      for (const server of [0, 1, 0, 1]) expect(await download(server)).toBe(302);
      return { email, cookie, download };
    }

    /**
     * Downloads from the other process without pause until it refuses, then for a while longer;
     * answers the latest start, counted from `since`, of a download it still let through.
     */
    async function lastLetThrough(download: () => Promise<number>, since: number, refused: number) {
      let last = -1;
      let firstRefusal: number | null = null;
      while (firstRefusal === null || performance.now() - firstRefusal < 500) {
        const started = performance.now();
        const status = await download();
        if (status === 302) last = started - since;
        else {
          expect(status).toBe(refused);
          firstRefusal ??= started;
        }
        if (started - since > 5 * MAX_STALE_MS) throw new Error("never refused");
      }
      return last;
    }

    it("a buyer revoked through one process is refused by the other within a second", async () => {
      const owner = await warmOwner("revoked");
      const listed = await fetch(
        `${servers.urls[0]}/api/admin/entitlements?email=${encodeURIComponent(owner.email)}`,
        { headers: { authorization: `Bearer ${servers.adminToken}` } },
      );
      const { entitlements } = (await listed.json()) as { entitlements: { id: string }[] };
      const revoke = await fetch(
        `${servers.urls[0]}/api/admin/entitlements/${entitlements[0]?.id}/revoke`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${servers.adminToken}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ reason: "chargeback" }),
        },
      );
      expect(revoke.status).toBe(200);
      const revokedAt = performance.now();
      expect(await owner.download(0)).toBe(403);
      expect(await lastLetThrough(() => owner.download(1), revokedAt, 403)).toBeLessThan(
        MAX_STALE_MS,
      );
    });

    it("a session signed out through one process is refused by the other within a second", async () => {
      const owner = await warmOwner("signed-out");
      const out = await fetch(`${servers.urls[0]}/auth/logout`, {
        method: "POST",
        headers: { cookie: owner.cookie },
        redirect: "manual",
      });
      expect(out.status).toBeLessThan(400);
      const signedOutAt = performance.now();
      expect(await owner.download(0)).toBe(401);
      expect(await lastLetThrough(() => owner.download(1), signedOutAt, 401)).toBeLessThan(
        MAX_STALE_MS,
      );
    });
  },
);
