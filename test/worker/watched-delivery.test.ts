/**
 * The delivery watchdog on Workers (issue 18, decision 0023), driven by the per-minute Cron
 * Trigger (src/runtime/worker.ts: sendersWork runs watchDeliveries): one download reminder with a
 * working fresh link to a buyer who downloaded nothing, and a receipt the mail API keeps refusing
 * retried and told to the seller once. The real bundle in workerd, Postgres through Hyperdrive,
 * the local Stripe, and an HTTP mail API that counts what it is sent and refuses when told to.
 * test/http/deliveryWatchdog.test.ts makes the same checks on Node.
 *
 * The Worker has no clock a test can move, and DOWNLOAD_REMINDER_AFTER cannot go below 1h
 * (src/config.ts): time passes by moving the orders' own timestamps back in Postgres instead, as
 * if they had been paid that long ago (see `backdate`).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { startLocalStripe } from "../../src/local-stripe/index.ts";
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "../support/harness.ts";
import type { MailApiRequest } from "../support/mailApiReceiver.ts";
import { freePort } from "../support/server.ts";
import { payOnHostedPage, startTestStripe, waitFor } from "../support/stripe.ts";
import {
  freshWorkerDatabase,
  type RunningWorker,
  readWrangler,
  startWorker,
  type WorkerDatabase,
} from "./support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const BUCKET = readWrangler().r2_buckets[0]?.bucket_name as string;
const EVERY_MINUTE = "* * * * *";
const MAIL_KEY = "re_worker_watchdog_0123456789abcdef";
const SELLER = "owner@shop.test";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * A Resend-style mail API (as test/support/mailApiReceiver.ts) that can also refuse: a mail to an
 * address in `busy` is answered 503, as a provider having trouble does (a failure for now, never
 * a bounce). Every request is kept, taken or refused.
 */
async function refusingMailApi() {
  const sent: MailApiRequest[] = [];
  const refused: MailApiRequest[] = [];
  const busy = new Set<string>();
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const mail: MailApiRequest = {
        authorization: req.headers.authorization,
        body: JSON.parse(body),
      };
      if (mail.body.to.some((to) => busy.has(to))) {
        refused.push(mail);
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Mailbox busy, try later" }));
        return;
      }
      sent.push(mail);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: `email_${sent.length}` }));
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/emails`,
    busy,
    /** The mails taken for this address, in order. */
    to: (address: string) => sent.filter((m) => m.body.to.includes(address)),
    /** The requests refused for this address (the mailer tries each message a few times). */
    refusedTo: (address: string) => refused.filter((m) => m.body.to.includes(address)),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

describe.skipIf(!TEST_DATABASE_URL)(
  "the delivery watchdog on workerd, by the per-minute Cron",
  () => {
    let database: WorkerDatabase;
    let worker: RunningWorker;
    let stripe: Awaited<ReturnType<typeof startLocalStripe>>;
    let mailApi: Awaited<ReturnType<typeof refusingMailApi>>;
    let publicUrl: string;

    beforeAll(async () => {
      database = await freshWorkerDatabase(TEST_DATABASE_URL as string);
      mailApi = await refusingMailApi();
      const port = await freePort();
      publicUrl = `http://127.0.0.1:${port}`;
      ({ stripe } = await startTestStripe({
        webhookUrl: `${publicUrl}/webhooks/stripe`,
        retry: { baseMs: 200, maxMs: 1000, maxAttempts: 5 },
      }));
      worker = await startWorker({
        port,
        databaseUrl: database.url,
        vars: {
          SESSION_SECRET: "worker-session-secret-0123456789abcdef",
          ADMIN_TOKEN,
          ADMIN_EMAILS: SELLER,
          STRIPE_SECRET_KEY: "sk_test_local",
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
          STRIPE_API_URL: stripe.url,
          STORAGE_URL: `r2://${BUCKET}`,
          DELIVERY_MODE: "proxy",
          PUBLIC_URL: publicUrl,
          MAIL_URL: mailApi.url,
          MAIL_API_KEY: MAIL_KEY,
          MAIL_FROM: "Kit Shop <hello@kits.example>",
          // The default, said out loud: the reminder is due 48 h after payment.
          DOWNLOAD_REMINDER_AFTER: "48h",
        },
      });
    });
    afterAll(async () => {
      await worker?.close();
      await stripe?.close();
      await mailApi?.close();
      await database?.drop();
    });

    /** A product with one file in R2, made through the Worker's admin API. */
    async function product(name: string): Promise<string> {
      const slug = `kit-${Math.random().toString(36).slice(2, 8)}`;
      const created = await worker.fetch("/api/admin/products", {
        method: "POST",
        headers: { ...admin, "content-type": "application/json" },
        body: JSON.stringify({ slug, name, price: { amount: 1500, currency: "usd" } }),
      });
      expect(created.status).toBe(201);
      const uploaded = await worker.fetch(`/api/admin/products/${slug}/assets?filename=kit.zip`, {
        method: "POST",
        headers: admin,
        body: new Blob([new TextEncoder().encode(`the files of ${name}`)]),
      });
      expect(uploaded.status).toBe(201);
      return slug;
    }

    interface OrderRow {
      status: string;
      paid_at: string | null;
      receipt_delivered_at: string | null;
      receipt_alerted_at: string | null;
      download_reminded_at: string | null;
    }
    const order = async (id: string) =>
      (await database.query<OrderRow>("select * from orders where id = $1", [id]))[0] as OrderRow;
    interface QueueRow {
      attempts: number;
      lease_until: string | null;
      last_error: string | null;
    }
    const queued = async (id: string) =>
      (
        await database.query<QueueRow>("select * from receipt_queue where order_id = $1", [id])
      )[0] ?? null;

    /**
     * A guest buys `name` on the local Stripe's hosted page; its webhook reaches the Worker, which
     * records the payment and tries the receipt in the same request. Resolves once that try is
     * over: the receipt taken by the mail API, or left queued after a failed try.
     */
    async function buy(email: string, name: string): Promise<{ orderId: string }> {
      const slug = await product(name);
      const started = await worker.fetch(`/checkout/${slug}`, {
        method: "POST",
        headers: { accept: "application/json", origin: publicUrl },
      });
      expect(started.status).toBe(201);
      const { url, orderId } = (await started.json()) as { url: string; orderId: string };
      expect((await payOnHostedPage(url, { email })).status).toBeLessThan(400);
      await waitFor(async () => {
        const row = await order(orderId);
        if (row?.status !== "paid") return false;
        if (row.receipt_delivered_at !== null) return true;
        const q = await queued(orderId);
        return q !== null && q.attempts >= 1 && q.lease_until === null;
      }, `${email}'s payment and first receipt try`);
      return { orderId };
    }

    /**
     * Moves an order `ms` into the past, as if paid that much earlier: its payment, creation,
     * update and receipt timestamps (the watchdog reads paid_at). Nothing else is moved: the
     * receipt queue's next try keeps its real time, so a retry seen below is the watchdog's own.
     */
    const backdate = (orderId: string, ms: number) =>
      database.query(
        `update orders set paid_at = paid_at - $1::bigint, created_at = created_at - $1::bigint,
         updated_at = updated_at - $1::bigint, receipt_sent_at = receipt_sent_at - $1::bigint,
         receipt_delivered_at = receipt_delivered_at - $1::bigint
       where id = $2`,
        [ms, orderId],
      );
    const cron = async () => expect((await worker.scheduled(EVERY_MINUTE)).outcome).toBe("ok");
    const reminders = (to: string) =>
      mailApi.to(to).filter((m) => m.body.subject.includes("are waiting"));
    const downloadLink = (text: string) => /https?:\/\/\S+\/d\/[^\s/]+/.exec(text)?.[0] as string;
    const alerts = () => mailApi.to(SELLER);

    /** A /d/ link's page, then its download button: the file's bytes. */
    async function downloadThrough(link: string): Promise<string> {
      const page = await worker.fetch(new URL(link).pathname);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("kit.zip");
      const button = /href="(?:https?:\/\/[^/"]+)?(\/d\/[^"]+)"/.exec(html)?.[1] as string;
      expect(button).toBeTruthy();
      const file = await worker.fetch(button.replaceAll("&amp;", "&"));
      expect(file.status).toBe(200);
      return file.text();
    }

    it("one reminder with a working fresh link after 48 h, only to a buyer who downloaded nothing, never twice", async () => {
      const idle = await buy("idle@example.com", "Idle Kit");
      const active = await buy("active@example.com", "Active Kit");
      const [idleReceipt] = mailApi.to("idle@example.com");
      const [activeReceipt] = mailApi.to("active@example.com");
      expect(idleReceipt?.body.subject).toBe("Your purchase: Idle Kit");
      // The active buyer downloads through the receipt's link; the idle one never does.
      expect(await downloadThrough(downloadLink(activeReceipt?.body.text ?? ""))).toBe(
        "the files of Active Kit",
      );

      // 47 hours after payment: not yet.
      for (const { orderId } of [idle, active]) await backdate(orderId, 47 * HOUR);
      await cron();
      expect(reminders("idle@example.com")).toHaveLength(0);

      // 49 hours: the idle buyer is reminded, once, however often the Cron fires.
      for (const { orderId } of [idle, active]) await backdate(orderId, 2 * HOUR);
      await cron();
      await cron();
      const [reminder, ...more] = reminders("idle@example.com");
      expect(more).toEqual([]);
      expect(reminder?.authorization).toBe(`Bearer ${MAIL_KEY}`);
      expect(reminder?.body.subject).toBe("Your files for Idle Kit are waiting");
      expect(reminders("active@example.com")).toHaveLength(0);
      expect((await order(idle.orderId)).download_reminded_at).not.toBeNull();
      expect((await order(active.orderId)).download_reminded_at).toBeNull();

      // A fresh link (not the receipt's), to the shop, never to storage; it gives the file.
      const fresh = downloadLink(reminder?.body.text ?? "");
      expect(fresh.startsWith(`${publicUrl}/d/`)).toBe(true);
      expect(fresh).not.toBe(downloadLink(idleReceipt?.body.text ?? ""));
      expect(reminder?.body.text).not.toMatch(/X-Amz-|r2\.cloudflarestorage/);
      expect(await downloadThrough(fresh)).toBe("the files of Idle Kit");

      await cron();
      expect(reminders("idle@example.com")).toHaveLength(1);
      expect(alerts()).toEqual([]);
    });

    it("a receipt the mail API refuses for 10 minutes is retried by the Cron, and the seller is told once", async () => {
      mailApi.busy.add("busy@example.com");
      const { orderId } = await buy("busy@example.com", "Busy Kit");
      // The Worker tried it after the webhook; the API refused; it waits queued for its next try.
      const refusedAtFirst = mailApi.refusedTo("busy@example.com").length;
      expect(refusedAtFirst).toBeGreaterThan(0);
      expect(mailApi.to("busy@example.com")).toEqual([]);
      expect(await queued(orderId)).toMatchObject({ attempts: 1, lease_until: null });
      expect((await queued(orderId))?.last_error).toContain(
        "answered 503: Mailbox busy, try later",
      );
      expect((await order(orderId)).receipt_delivered_at).toBeNull();

      // 9 minutes after payment: nothing is tried, nobody is told.
      await backdate(orderId, 9 * MINUTE);
      await cron();
      expect(mailApi.refusedTo("busy@example.com")).toHaveLength(refusedAtFirst);
      expect(await queued(orderId)).toMatchObject({ attempts: 1 });
      expect(alerts()).toEqual([]);

      // 11 minutes: the watchdog tries it again (refused again), and tells the seller, once.
      await backdate(orderId, 2 * MINUTE);
      await cron();
      expect(mailApi.refusedTo("busy@example.com").length).toBeGreaterThan(refusedAtFirst);
      expect(await queued(orderId)).toMatchObject({ attempts: 2, lease_until: null });
      const [alert, ...more] = alerts();
      expect(more).toEqual([]);
      expect(alert?.body.subject).toMatch(/A receipt has not gone out: /);
      expect(alert?.body.text).toContain("busy@example.com");
      expect(alert?.body.text).toContain("Busy Kit");
      expect(alert?.body.text).toContain("Mailbox busy, try later");
      expect(alert?.body.text).toContain(`${publicUrl}/admin/orders/${orderId}`);
      expect((await order(orderId)).receipt_alerted_at).not.toBeNull();

      // Later Cron runs do not tell the seller again.
      await backdate(orderId, 11 * MINUTE);
      await cron();
      await cron();
      expect(alerts()).toHaveLength(1);

      // The API takes mail again: the receipt's next try (due now) delivers it, and no one is
      // told again.
      mailApi.busy.delete("busy@example.com");
      await database.query("update receipt_queue set due_at = $1 where order_id = $2", [
        Date.now(),
        orderId,
      ]);
      await cron();
      expect(mailApi.to("busy@example.com").map((m) => m.body.subject)).toEqual([
        "Your purchase: Busy Kit",
      ]);
      expect((await order(orderId)).receipt_delivered_at).not.toBeNull();
      expect(await queued(orderId)).toBeNull();
      await cron();
      expect(alerts()).toHaveLength(1);
      expect(mailApi.to("busy@example.com")).toHaveLength(1);
    });
  },
);
