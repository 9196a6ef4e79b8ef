import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../support/databases.ts";
import { WEBHOOK_SECRET } from "../support/harness.ts";
import { freePort, type RunningServer, startServer } from "../support/server.ts";
import { inBatches, shopClient } from "../support/shop-client.ts";
import { startTestStripe, waitFor } from "../support/stripe.ts";

const ADMIN_TOKEN = "multi-receipts-admin-token-0123456789";
const BUYERS = 40;

/**
 * The receipt queue with two real server processes on one Postgres (decision 0011): every paid
 * event is posted to both at once, each process queues and sends receipts in its own background
 * sender, and each buyer gets exactly one receipt. The queue's leases (FOR UPDATE SKIP LOCKED)
 * are what keep the two senders apart; the event claim is what keeps the two deliveries of one
 * event from paying the order twice.
 */
describe("receipts with two server processes on one Postgres", () => {
  process.env.TEST_DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/test";
  let database: TestDatabase;
  let stripe: Awaited<ReturnType<typeof startTestStripe>>;
  let mailApi: Server;
  const mailed: string[] = [];
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    database = await freshDatabase("postgres");
    stripe = await startTestStripe();
    // An HTTP mail API (Resend-style) that records who each message went to.
    mailApi = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        mailed.push((JSON.parse(body) as { to: string[] }).to[0] ?? "");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: `email_${mailed.length}` }));
      });
    });
    await new Promise<void>((ready) => mailApi.listen(0, "127.0.0.1", ready));
    const shared = mkdtempSync(join(tmpdir(), "tollgate-receipts-"));
    const env = {
      DATABASE_URL: database.url,
      STORAGE_URL: `file:${join(shared, "files")}`,
      SESSION_SECRET: "m".repeat(64),
      ADMIN_TOKEN,
      STRIPE_API_URL: stripe.stripe.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MAIL_URL: `http://127.0.0.1:${(mailApi.address() as { port: number }).port}/emails`,
      MAIL_API_KEY: "re_multi_receipts_0123456789",
      MAIL_FROM: "Kit Shop <hello@kits.example>",
    };
    for (const i of [0, 1]) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      servers.push(
        await startServer(
          [],
          { ...env, PORT: String(port), PUBLIC_URL: url },
          mkdtempSync(join(shared, `p${i}-`)),
        ),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await stripe?.stripe.close();
    await new Promise((done) => (mailApi ? mailApi.close(done) : done(undefined)));
    await database?.drop();
  });

  it("sends each buyer one receipt when every paid event reaches both processes", async () => {
    const [one, two] = servers.map((s) => shopClient(s.url, ADMIN_TOKEN)) as [
      ReturnType<typeof shopClient>,
      ReturnType<typeof shopClient>,
    ];
    await one.createProduct("multi-kit");
    await one.upload("multi-kit", "kit.zip", "kit bytes");

    // Checkouts start on either process and are paid on the local Stripe's hosted page.
    const emails = Array.from({ length: BUYERS }, (_, i) => `buyer-${i}@example.com`);
    await inBatches(emails, 4, async (email, i) => {
      const { url } = await (i % 2 ? two : one).startCheckout("multi-kit");
      const paid = await fetch(url, {
        method: "POST",
        body: new URLSearchParams({ method: "card", card_number: "4242424242424242", email }),
        redirect: "manual",
      });
      expect(paid.status).toBe(303);
    });
    const events = (await stripe.sdk.events
      .list({ type: "checkout.session.completed", limit: 100 })
      .autoPagingToArray({ limit: 1000 })) as Stripe.Event[];
    expect(events).toHaveLength(BUYERS);

    // Each event to both processes at once, as Stripe retrying through a load balancer would.
    const answers = await inBatches(events, 8, async (event) => {
      const body = JSON.stringify(event);
      const both = await Promise.all([one.postEvent(body), two.postEvent(body)]);
      return Promise.all(both.map(async (res) => ({ status: res.status, ...(await res.json()) })));
    });
    for (const pair of answers) {
      expect(pair.map((a) => a.status)).toEqual([200, 200]);
      // One of the two applied it; the other found it handled (or applied nothing new).
      expect(pair.filter((a) => !a.duplicate).length).toBeLessThanOrEqual(1);
    }

    // The receipts go out after the answers, from the queue both processes drain.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await waitFor(async () => {
        const queued = await client.query("select count(*)::int as n from receipt_queue");
        return mailed.length >= BUYERS && queued.rows[0].n === 0;
      }, "every receipt to be sent");
      // Anything sent twice would arrive now, a moment later.
      await new Promise((r) => setTimeout(r, 1000));
      const sorted = [...mailed].sort();
      expect(sorted).toEqual([...emails].sort());
      const orders = await client.query(
        "select count(*)::int as n from orders where status = 'paid' and receipt_delivered_at is not null",
      );
      expect(orders.rows[0].n).toBe(BUYERS);
    } finally {
      await client.end();
    }
    // Between them, the two processes logged one send per receipt.
    const sentBy = servers.map((s) => (s.output().match(/receipt sent/g) ?? []).length);
    expect(sentBy.reduce((a, b) => a + b, 0)).toBe(BUYERS);
  });
});
