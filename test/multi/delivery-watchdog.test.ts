import { createServer, type Server } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";
import { inBatches, type ShopClient, shopClient } from "../support/shop-client.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const SELLER = "owner@shop.test";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Stuck receipts, idle buyers and failed payments: as many of each, made due one step at a time. */
const STEPS = 5;
const buyers = (group: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${group}-${i}@example.com`);
/** Each mail takes the mail API this long: a pass that mails overlaps the other process's ticks. */
const MAIL_API_MS = 250;
/** Receipts the mail API keeps answering 503 (try later): stuck. */
const STUCK = buyers("stuck", STEPS);
/** Receipts delivered, nothing downloaded 49 hours on: one reminder each. */
const IDLE = buyers("idle", STEPS);
/** Delivered and downloaded: never reminded. */
const ACTIVE = "active@example.com";
/** Receipts refused for good (422, an invalid `to`): bounced, one seller alert each. */
const BOUNCED = buyers("bounce", 4);
/** A failed payment each (a payment_failures row the test writes), its mail's first try failed. */
const CARD = buyers("card", STEPS);

/**
 * The delivery watchdog, the bounce alerts and the payment-failed mails (decisions 0020, 0023,
 * 0024) with two real `tollgate serve` processes on one Postgres, ticking every second, their
 * mail going to one slow HTTP mail API (Resend-style) that keeps what it accepts. Time moves as
 * in background-jobs.test.ts: the test dates the orders back, one of each kind at a time, so
 * passes of both processes find work while the other's are mailing. However the two processes
 * share the passes, each stuck receipt is told to the seller once, each idle buyer is reminded
 * once, each bounce is alerted once, and each payment-failed mail goes once.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)(
  "delivery watchdog and mail jobs with two processes on one Postgres",
  () => {
    let mailApi: Server;
    /** The mails the API accepted. */
    const mailed: { to: string; subject: string; text: string }[] = [];
    /** Every recipient the API was asked to mail, accepted or not. */
    const asked: string[] = [];
    let servers: ServerProcesses;
    let client: pg.Client;
    let shops: [ShopClient, ShopClient];

    beforeAll(async () => {
      mailApi = createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
          const mail = JSON.parse(body) as { to: string[]; subject: string; text: string };
          const to = mail.to[0] ?? "";
          asked.push(to);
          const [status, answer] = BOUNCED.includes(to)
            ? [422, { name: "validation_error", message: `Invalid \`to\` field: ${to}.` }]
            : STUCK.includes(to)
              ? [503, { name: "application_error", message: "Mailbox busy, try later" }]
              : [
                  200,
                  { id: `email_${mailed.push({ to, subject: mail.subject, text: mail.text })}` },
                ];
          setTimeout(() => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(JSON.stringify(answer));
          }, MAIL_API_MS);
        });
      });
      await new Promise<void>((ready) => mailApi.listen(0, "127.0.0.1", ready));
      servers = await startServers({
        count: 2,
        env: {
          HOUSEKEEPING_INTERVAL: "1s",
          MAIL_URL: `http://127.0.0.1:${(mailApi.address() as { port: number }).port}/emails`,
          MAIL_API_KEY: "re_multi_watchdog_0123456789",
          MAIL_FROM: "Kit Shop <hello@kits.example>",
          ADMIN_EMAILS: SELLER,
        },
      });
      shops = servers.urls.map((url) => shopClient(url, servers.adminToken)) as [
        ShopClient,
        ShopClient,
      ];
      client = new pg.Client({ connectionString: servers.database.url });
      await client.connect();
    });
    afterAll(async () => {
      await client?.end();
      await servers?.stop();
      mailApi?.closeAllConnections();
      await new Promise((done) => (mailApi ? mailApi.close(done) : done(undefined)));
    });

    const mailsTo = (address: string) => mailed.filter((m) => m.to === address);
    const sellerAlerts = (about: RegExp) => mailsTo(SELLER).filter((m) => about.test(m.subject));
    const stuckAlerts = () => sellerAlerts(/receipts? ha(s|ve) not gone out/);
    const reminders = (to: string) =>
      mailsTo(to).filter((m) => m.subject === "Your files for Kit watch are waiting");
    const paymentFailed = (to: string) =>
      mailsTo(to).filter((m) => m.subject === "Payment failed: Kit watch");
    const bounceAlerts = (to: string) =>
      sellerAlerts(/A receipt bounced: /).filter((m) => m.subject.endsWith(`bounced: ${to}`));
    const counts = (emails: string[], of: (email: string) => unknown[]) =>
      Object.fromEntries(emails.map((email) => [email, of(email).length]));
    const ones = (emails: string[]) => Object.fromEntries(emails.map((email) => [email, 1]));

    it("mails each alert, reminder and payment-failed mail once, whichever process runs the pass", async () => {
      await shops[0].createProduct("watch");
      await shops[0].upload("watch", "kit.zip", "kit bytes");

      // Every buyer pays; checkouts start on either process.
      const everyone = [...STUCK, ...IDLE, ACTIVE, ...BOUNCED, ...CARD];
      const orderOf = new Map<string, string>();
      await inBatches(everyone, 3, async (email, i) => {
        const { url, orderId } = await (i % 2 ? shops[1] : shops[0]).startCheckout("watch");
        expect((await payOnHostedPage(url, { email })).status).toBe(303);
        orderOf.set(email, orderId);
      });
      const ids = (emails: string[]) => emails.map((email) => orderOf.get(email) as string);
      const count = async (query: string, emails: string[]) =>
        (await client.query(query, [ids(emails)])).rows[0].n as number;

      // Each receipt tried: delivered, bounced, or waiting for its next try after a 503.
      await waitFor(async () => {
        const delivered = await count(
          "select count(*)::int as n from orders where id = any($1) and status = 'paid' and receipt_delivered_at is not null",
          [...IDLE, ACTIVE, ...CARD],
        );
        const bounced = await count(
          "select count(*)::int as n from orders where id = any($1) and receipt_bounced_at is not null",
          BOUNCED,
        );
        const waiting = await count(
          "select count(*)::int as n from receipt_queue where order_id = any($1) and last_error is not null",
          STUCK,
        );
        return (
          delivered === IDLE.length + 1 + CARD.length &&
          bounced === BOUNCED.length &&
          waiting === STUCK.length
        );
      }, "every receipt's first try");

      // The active buyer downloads from their receipt's link.
      const receiptLink = /https?:\/\/\S+\/d\/\S+/.exec(mailsTo(ACTIVE)[0]?.text ?? "")?.[0];
      expect(receiptLink).toBeTruthy();
      const linkPage = await (await fetch(receiptLink as string)).text();
      const button = /href="(https?:\/\/[^"]+)?(\/d\/[^"]+)"/.exec(linkPage);
      const origin = new URL(receiptLink as string).origin;
      const file = await fetch(`${origin}${button?.[2]?.replaceAll("&amp;", "&")}`);
      expect(await file.text()).toBe("kit bytes");

      // Time moves, one order of each kind at a time (so that several passes, of either process,
      // find work): a stuck receipt was paid 11 minutes ago, an idle buyer's order 49 hours ago,
      // and a card buyer's payment-failed mail waits, its first try failed. The active buyer's
      // order is as old as the idle ones.
      await client.query("update orders set paid_at = $1 where id = $2", [
        Date.now() - 49 * HOUR,
        orderOf.get(ACTIVE),
      ]);
      for (let i = 0; i < STEPS; i++) {
        const now = Date.now();
        await client.query("update orders set paid_at = $1 where id = $2", [
          now - 11 * MINUTE,
          orderOf.get(STUCK[i] as string),
        ]);
        await client.query("update orders set paid_at = $1 where id = $2", [
          now - 49 * HOUR,
          orderOf.get(IDLE[i] as string),
        ]);
        await client.query(
          `insert into payment_failures (invoice_id, order_id, failed_at, grace_until, invoice_url,
             paid_at, mail_due_at, mail_lease_until, mail_attempts, mail_error, mailed_at, created_at)
           values ($1, $2, $3, $4, null, null, $3, null, 1, 'connection refused', null, $3)`,
          [`in_${i}`, orderOf.get(CARD[i] as string), now, now + 7 * 24 * HOUR],
        );
        await new Promise((r) => setTimeout(r, 700));
      }

      // The first bounce-alerts pass comes 30 s after the processes started (it ticks every 30 s).
      await waitFor(
        async () =>
          STUCK.every((e) => stuckAlerts().some((m) => m.text.includes(e))) &&
          IDLE.every((e) => reminders(e).length > 0) &&
          BOUNCED.every((e) => bounceAlerts(e).length > 0) &&
          CARD.every((e) => paymentFailed(e).length > 0),
        "every alert, reminder and payment-failed mail",
      );
      // Three more watchdog and payment-failed passes: anything mailed twice would come now.
      await new Promise((r) => setTimeout(r, 3500));

      // Each stuck receipt is in exactly one alert (a pass's alert lists all it found).
      expect(counts(STUCK, (e) => stuckAlerts().filter((m) => m.text.includes(e)))).toEqual(
        ones(STUCK),
      );
      for (const alert of stuckAlerts()) {
        expect(alert.text).toContain("Mailbox busy, try later");
        for (const other of [...IDLE, ACTIVE, ...BOUNCED, ...CARD])
          expect(alert.text).not.toContain(other);
      }
      // ... and was tried again (by the watchdog, and by housekeeping every second): more than
      // the mailer's three attempts at one send.
      for (const email of STUCK) expect(asked.filter((a) => a === email).length).toBeGreaterThan(3);
      expect(
        await count(
          "select count(*)::int as n from orders where id = any($1) and receipt_alerted_at is not null",
          STUCK,
        ),
      ).toBe(STUCK.length);

      // One reminder to each idle buyer; none to anyone who downloaded or paid just now.
      expect(counts(IDLE, reminders)).toEqual(ones(IDLE));
      expect(counts([ACTIVE, ...STUCK, ...BOUNCED, ...CARD], reminders)).toEqual(
        Object.fromEntries([ACTIVE, ...STUCK, ...BOUNCED, ...CARD].map((e) => [e, 0])),
      );
      // One seller alert per bounced receipt, and one payment-failed mail per failed invoice.
      expect(counts(BOUNCED, bounceAlerts)).toEqual(ones(BOUNCED));
      expect(sellerAlerts(/A receipt bounced: /)).toHaveLength(BOUNCED.length);
      expect(counts(CARD, paymentFailed)).toEqual(ones(CARD));
      expect(
        await count(
          "select count(*)::int as n from payment_failures where order_id = any($1) and mailed_at is not null",
          CARD,
        ),
      ).toBe(CARD.length);

      // The reminder's fresh link works.
      const fresh = /https?:\/\/\S+\/d\/\S+/.exec(reminders(IDLE[0] as string)[0]?.text ?? "");
      expect(fresh?.[0]).toBeTruthy();
      const reminded = await fetch(fresh?.[0] as string);
      expect(reminded.status).toBe(200);
      expect(await reminded.text()).toContain("kit.zip");

      // Nothing went wrong on the way: no pass failed, no job's lease was taken from its holder.
      const output = servers.output();
      expect(output).not.toContain("background job failed");
      expect(output).not.toContain("job lease lost");
    });
  },
);
