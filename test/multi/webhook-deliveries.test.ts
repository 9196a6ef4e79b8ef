import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";
import { type ShopClient, shopClient } from "../support/shop-client.ts";
import { waitFor } from "../support/stripe.ts";
import { webhookReceiver } from "../support/webhookReceiver.ts";

const EVENTS = 60;

/**
 * Outgoing webhooks with two real `tollgate serve` processes on one Postgres (decision 0017):
 * grants go through both at once, each process's background sender drains the one delivery
 * table every second and after each commit, and the receiver (slow, so the senders' passes
 * overlap) gets each event once. The deliveries' leases (FOR UPDATE SKIP LOCKED) keep the two
 * senders apart; without them both would post the rows they both find due.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)(
  "webhook deliveries with two processes on one Postgres",
  () => {
    let servers: ServerProcesses;
    let clients: [ShopClient, ShopClient];
    let receiver: Awaited<ReturnType<typeof webhookReceiver>>;

    beforeAll(async () => {
      receiver = await webhookReceiver();
      receiver.respondWith(() => ({ status: 200, delayMs: 150 }));
      servers = await startServers({ count: 2, env: { WEBHOOK_ALLOW_PRIVATE_URLS: "true" } });
      clients = servers.urls.map((url) => shopClient(url, servers.adminToken)) as [
        ShopClient,
        ShopClient,
      ];
    });
    afterAll(async () => {
      await servers?.stop();
      await receiver?.close();
    });

    it("sends each event once", async () => {
      const res = await fetch(`${servers.urls[0]}/api/admin/webhook-endpoints`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${servers.adminToken}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ url: receiver.url("/multi"), events: ["access.granted"] }),
      });
      expect(res.status).toBe(201);
      // The other process learns within a second that the shop now has an endpoint.
      await new Promise((r) => setTimeout(r, 1500));
      await clients[0].createProduct("multi-hooks");
      await Promise.all(
        Array.from({ length: EVENTS }, (_, i) =>
          (i % 2 ? clients[1] : clients[0]).grant(`buyer${i}@example.com`, "multi-hooks"),
        ),
      );
      await waitFor(async () => receiver.at("/multi").length >= EVENTS, "every delivery", 30_000);
      // Time for a second copy to arrive, were one sent.
      await new Promise((r) => setTimeout(r, 2500));
      const ids = receiver.at("/multi").map((r) => r.headers["webhook-id"]);
      expect(ids).toHaveLength(EVENTS);
      expect(new Set(ids).size).toBe(EVENTS);
      const emails = receiver.at("/multi").map((r) => JSON.parse(r.body).data.email);
      expect(new Set(emails).size).toBe(EVENTS);
      // Both processes sent some: the leases, not luck, kept them apart.
      const log = servers.output();
      expect(log).toMatch(/^\[0\].*webhook delivered/m);
      expect(log).toMatch(/^\[1\].*webhook delivered/m);
    }, 60_000);
  },
);
