import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchDeliveries } from "../../src/core/orders/watchdog.ts";
import { buildNodeRuntime } from "../../src/runtime/node.ts";
import { startSmtpServer, type TestSmtpServer } from "../mail/smtp-server.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage } from "../support/stripe.ts";

const html = { accept: "text/html" };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

/**
 * The delivery watchdog (decision 0023), on a shop whose mail goes through a real SMTP server and
 * a clock the test moves: stuck receipts retried and told to the seller once, one download
 * reminder with a working fresh link, the dashboard's list, and the buyer's status page.
 */
describe.each(dialects)("the delivery watchdog on %s", (dialect) => {
  let smtp: TestSmtpServer;
  let h: Harness;
  const deferred: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer({ deferRecipients: deferred });
    h = await makeHarness(
      dialect,
      { MAIL_URL: smtp.url(), MAIL_FROM: "Kit Shop <hello@kits.example>" },
      { stripe: "manual" },
    );
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const mailsTo = (address: string) =>
    smtp.received.filter((r) => r.envelope.to.includes(address)).map((r) => r.mail);
  const pass = async () => {
    const outcome = await watchDeliveries({ ctx: h.ctx });
    await h.runtime.receiptsSettled();
    return outcome;
  };

  /** A guest buys through the local Stripe; the success page confirms the payment. */
  async function buy(email: string, name = "Watch Kit") {
    const product = await h.createProduct({ name });
    await h.upload(product.slug, "kit.zip", "kit bytes");
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
    const success = await h.request(`/checkout/success?session_id=${sessionId}`, {
      headers: html,
    });
    expect(success.status).toBe(200);
    const page = await success.text();
    expect(page).toContain(`href="/checkout/status?session_id=${sessionId}"`);
    await h.runtime.receiptsSettled();
    const assetId = /\/checkout\/download\/([^?"]+)\?/.exec(page)?.[1] as string;
    return { product, sessionId, orderId, assetId };
  }
  const order = (id: string) =>
    h.deps.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const statusPage = async (sessionId: string) => {
    const res = await h.request(`/checkout/status?session_id=${sessionId}`, { headers: html });
    return { res, text: textOf(await res.text()) };
  };

  it("a receipt the mail server refuses for 10 minutes is retried, and the seller is told once", async () => {
    deferred.push("busy@example.com");
    const bought = await buy("busy@example.com", "Busy Kit");
    expect(mailsTo("busy@example.com")).toHaveLength(0);
    expect((await order(bought.orderId)).receipt_delivered_at).toBeNull();
    const status = await statusPage(bought.sessionId);
    expect(status.text).toContain("Receipt sent (Not yet) Sending to busy@example.com.");

    // Not yet 10 minutes: nobody is told.
    h.clock.advance(9 * MINUTE);
    expect(await pass()).toMatchObject({ alerted: 0 });
    expect(mailsTo("owner@shop.test")).toHaveLength(0);

    // 10 minutes: tried again (still refused), and the seller is told, once.
    h.clock.advance(2 * MINUTE);
    expect(await pass()).toMatchObject({ retried: 1, alerted: 1 });
    const alerts = mailsTo("owner@shop.test");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toMatch(/A receipt has not gone out: /);
    expect(alerts[0]?.text).toContain("busy@example.com");
    expect(alerts[0]?.text).toContain("Mailbox busy, try later");
    expect(alerts[0]?.text).toContain(`${PUBLIC_URL}/admin/orders/${bought.orderId}`);
    expect((await order(bought.orderId)).receipt_alerted_at).not.toBeNull();

    const dashboard = textOf(await (await h.admin("/admin", { headers: html })).text());
    expect(dashboard).toContain("Paid but not yet delivered");
    expect(dashboard).toMatch(/busy@example\.com Busy Kit The receipt has not gone out 11 minutes/);
    expect(dashboard).toContain("You were emailed about it.");

    h.clock.advance(11 * MINUTE);
    await pass();
    expect(mailsTo("owner@shop.test")).toHaveLength(1);

    // The mailbox takes mail again: the receipt's next try delivers it, and no one is told again.
    deferred.length = 0;
    h.clock.advance(11 * MINUTE);
    const { resendUndeliveredReceipts } = await import("../../src/core/orders/receipts.ts");
    await resendUndeliveredReceipts({ ctx: h.ctx });
    expect(mailsTo("busy@example.com").map((m) => m.subject)).toEqual(["Your purchase: Busy Kit"]);
    await pass();
    expect(mailsTo("owner@shop.test")).toHaveLength(1);
    expect((await statusPage(bought.sessionId)).text).toMatch(
      /Receipt sent \(Done\) \d{4}-\d\d-\d\d \d\d:\d\d UTC to busy@example\.com/,
    );
    const after = textOf(await (await h.admin("/admin", { headers: html })).text());
    expect(after).not.toContain("Busy Kit The receipt");
  });

  it("the status page follows the order: payment, receipt, first download; unknown ids get the same 404", async () => {
    const bought = await buy("tracker@example.com", "Tracker Kit");
    const before = await statusPage(bought.sessionId);
    expect(before.res.status).toBe(200);
    expect(before.res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(before.text).toMatch(/Payment confirmed \(Done\) \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(before.text).toMatch(/Receipt sent \(Done\) \d{4}-.* to tracker@example\.com/);
    expect(before.text).toContain("First download (Not yet) Not yet.");
    expect(before.text).toContain("Download your files");

    const file = await h.request(
      `/checkout/download/${bought.assetId}?session_id=${bought.sessionId}`,
    );
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("kit bytes");
    const after = await statusPage(bought.sessionId);
    expect(after.text).toMatch(/First download \(Done\) \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(after.text).not.toContain("Download your files");

    // Signed in, from the library: the same page, for the buyer's own orders only.
    const cookie = await signIn("tracker@example.com");
    const library = await h.request("/library", { headers: html, cookie });
    expect(await library.text()).toContain(`href="/library/orders/${bought.orderId}"`);
    const mine = await h.request(`/library/orders/${bought.orderId}`, { headers: html, cookie });
    expect(mine.status).toBe(200);
    expect(textOf(await mine.text())).toMatch(/First download \(Done\)/);

    const missing: string[] = [];
    for (const path of [
      "/checkout/status?session_id=cs_doesnotexist0000000000",
      "/checkout/status?session_id=not-a-session",
      "/checkout/status",
    ]) {
      const res = await h.request(path, { headers: html });
      expect(res.status, path).toBe(404);
      missing.push(textOf(await res.text()).replace(/reference \S+/, ""));
    }
    expect(new Set(missing).size).toBe(1);
    expect(missing[0]).toContain("There is no such checkout.");
    const other = await buy("someone@example.com", "Other Kit");
    const notMine: string[] = [];
    for (const id of [other.orderId, "ord_doesnotexist", "../etc"]) {
      const res = await h.request(`/library/orders/${encodeURIComponent(id)}`, {
        headers: html,
        cookie,
      });
      expect(res.status, id).toBe(404);
      notMine.push(textOf(await res.text()).replace(/reference \S+/, ""));
    }
    expect(new Set(notMine).size).toBe(1);
    expect(notMine[0]).toContain("There is no such order in your library.");
    // Signed out: to the sign-in page, then back here.
    const out = await h.request(`/library/orders/${bought.orderId}`, { headers: html });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe(
      `/auth/login?next=${encodeURIComponent(`/library/orders/${bought.orderId}`)}`,
    );
  });

  it("the status page is limited per client, like the success page's checks", async () => {
    h.clock.advance(2 * MINUTE);
    const bought = await buy("limit@example.com", "Limit Kit");
    let last = 200;
    for (let i = 0; i < 90 && last !== 429; i++)
      last = (await h.request(`/checkout/status?session_id=${bought.sessionId}`)).status;
    expect(last).toBe(429);
    h.clock.advance(2 * MINUTE);
    expect((await statusPage(bought.sessionId)).res.status).toBe(200);
  });

  it("one reminder with a working fresh link after 48 h, only to buyers who downloaded nothing, never twice", async () => {
    h.clock.advance(30 * HOUR);
    const idle = await buy("idle@example.com", "Idle Kit");
    const active = await buy("active@example.com", "Active Kit");
    await buy("late@example.com", "Late Kit");
    const downloaded = await h.request(
      `/checkout/download/${active.assetId}?session_id=${active.sessionId}`,
    );
    expect(downloaded.status).toBe(200);

    h.clock.advance(47 * HOUR);
    await pass();
    const reminders = (to: string) => mailsTo(to).filter((m) => m.subject?.includes("are waiting"));
    expect(reminders("idle@example.com")).toHaveLength(0);

    // The late buyer downloads just before the reminder would go.
    const cookie = await signIn("late@example.com");
    const library = await (await h.request("/library", { headers: html, cookie })).text();
    const libraryLink = /href="http:\/\/shop\.test(\/download\/[^"]+)"/.exec(
      library,
    )?.[1] as string;
    expect((await h.request(libraryLink, { cookie })).status).toBe(200);

    h.clock.advance(2 * HOUR);
    const dashboard = textOf(await (await h.admin("/admin", { headers: html })).text());
    expect(dashboard).toMatch(
      /idle@example\.com Idle Kit Nothing downloaded 2 days after payment; the reminder goes/,
    );
    expect(dashboard).not.toContain("active@example.com Active Kit");
    expect(dashboard).not.toContain("late@example.com Late Kit");

    await pass();
    const [reminder] = reminders("idle@example.com");
    expect(reminder?.subject).toBe("Your files for Idle Kit are waiting");
    expect(reminders("active@example.com")).toHaveLength(0);
    expect(reminders("late@example.com")).toHaveLength(0);
    expect((await order(idle.orderId)).download_reminded_at).not.toBeNull();
    const after = textOf(await (await h.admin("/admin", { headers: html })).text());
    expect(after).toMatch(
      /Idle Kit Nothing downloaded 2 days after payment; a reminder went 0 minutes ago/,
    );

    // A second pass, and one a day later: still one reminder.
    await pass();
    h.clock.advance(12 * HOUR);
    await pass();
    expect(reminders("idle@example.com")).toHaveLength(1);

    // The fresh link works (the receipt's, from 2 days ago, has expired).
    const fresh = /https?:\/\/\S+\/d\/\S+/.exec(reminder?.text ?? "")?.[0] as string;
    expect(fresh).toBeTruthy();
    const file = await h.request(fresh.replace(PUBLIC_URL, ""));
    expect(file.status).toBe(200);
    // The link's page lists the files; its download button gives the bytes.
    const linkPage = await file.text();
    expect(linkPage).toContain("kit.zip");
    const button = /href="(?:http:\/\/shop\.test)?(\/d\/[^"]+)"/.exec(linkPage)?.[1] as string;
    const bytes = await h.request(button.replaceAll("&amp;", "&"));
    expect(bytes.status).toBe(200);
    expect(await bytes.text()).toBe("kit bytes");
    // Downloaded now: off the dashboard's list.
    const later = textOf(await (await h.admin("/admin", { headers: html })).text());
    expect(later).not.toContain("Idle Kit Nothing downloaded");
    await pass();
    expect(reminders("idle@example.com")).toHaveLength(1);
  });

  it("two passes at once, from two runtimes on one database, mail each reminder once", async () => {
    h.clock.advance(2 * HOUR);
    const buyers = ["p1@example.com", "p2@example.com", "p3@example.com"];
    for (const email of buyers) await buy(email, `Pair Kit ${email}`);
    // A refunded buyer is never reminded.
    const refunded = await buy("refunded@example.com", "Refunded Kit");
    await h.deps.db
      .updateTable("orders")
      .set({ status: "refunded" })
      .where("id", "=", refunded.orderId)
      .execute();
    h.clock.advance(49 * HOUR);
    const second = await buildNodeRuntime(h.config, { clock: h.clock, migrate: false });
    try {
      const outcomes = await Promise.all([
        watchDeliveries({ ctx: h.ctx }),
        watchDeliveries({ ctx: second.systemCtx }),
        watchDeliveries({ ctx: h.ctx }),
        watchDeliveries({ ctx: second.systemCtx }),
      ]);
      expect(outcomes.reduce((n, o) => n + o.reminded, 0)).toBeGreaterThanOrEqual(3);
    } finally {
      await second.close();
    }
    for (const email of buyers)
      expect(
        mailsTo(email).filter((m) => m.subject?.includes("are waiting")),
        email,
      ).toHaveLength(1);
    expect(mailsTo("refunded@example.com").filter((m) => m.subject?.includes("waiting"))).toEqual(
      [],
    );
  });

  /** Signs in through the mail the SMTP server received. */
  async function signIn(email: string): Promise<string> {
    const count = mailsTo(email).length;
    const asked = await h.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    expect(asked.status).toBe(202);
    await smtp.waitFor(smtp.received.length);
    const mail = mailsTo(email)
      .slice(count)
      .find((m) => m.subject?.includes("sign-in"));
    const link = /\/auth\/callback\?token=[\w-]+/.exec(mail?.text ?? "")?.[0] as string;
    const res = await h.request(link);
    const cookie = res.headers.get("set-cookie")?.split(";")[0];
    expect(res.status).toBe(303);
    return cookie as string;
  }
});
