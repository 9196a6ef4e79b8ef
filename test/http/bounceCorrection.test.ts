import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertBouncedReceipts } from "../../src/core/orders/bounceAlerts.ts";
import { resendUndeliveredReceipts } from "../../src/core/orders/receipts.ts";
import { type Received, startSmtpServer, type TestSmtpServer } from "../mail/smtp-server.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

const form = { "content-type": "application/x-www-form-urlencoded", origin: PUBLIC_URL };

/**
 * A receipt refused with 550 by a real SMTP server: bounced and not retried, the seller alerted
 * once, and the paying browser's success page offers to correct the address; the purchase moves
 * only once the corrected address's sign-in link is used (decision 0024).
 */
describe.each(dialects)("bounced receipt and its correction, on %s", (dialect) => {
  let smtp: TestSmtpServer;
  let h: Harness;
  beforeAll(async () => {
    smtp = await startSmtpServer({ rejectRecipients: ["typo@example.com"] });
    h = await makeHarness(
      dialect,
      {
        MAIL_URL: smtp.url(),
        MAIL_FROM: "Kit Shop <hello@kits.example>",
        WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      },
      { stripe: true },
    );
  });
  afterAll(async () => {
    await h.close();
    await smtp.close();
  });

  const mailsTo = (to: string): Received[] =>
    smtp.received.filter((r) => r.envelope.to.includes(to));
  const asked = (to: string) => smtp.recipientsAsked.filter((a) => a === to).length;
  const orderRow = (id: string) =>
    h.deps.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const entitlementOf = (orderId: string) =>
    h.deps.db
      .selectFrom("entitlements")
      .selectAll()
      .where("source_ref", "=", orderId)
      .executeTakeFirstOrThrow();
  const signInLink = (to: string) => {
    const mail = mailsTo(to).findLast((m) => /\/auth\/callback\?token=/.test(m.mail.text ?? ""));
    const link = /\/auth\/callback\?token=[\w-]+/.exec(mail?.mail.text ?? "")?.[0];
    if (!link) throw new Error(`no sign-in link to ${to}`);
    return link;
  };
  const correct = (sessionId: string, email: string) =>
    h.request("/checkout/correct-email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: PUBLIC_URL },
      body: JSON.stringify({ sessionId, email }),
    });

  async function buy(email: string) {
    const product = await h.createProduct({ name: "Bounce Kit" });
    await h.upload(product.slug, "kit.zip", "kit bytes");
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const { url, orderId, sessionId } = (await res.json()) as {
      url: string;
      orderId: string;
      sessionId: string;
    };
    expect((await payOnHostedPage(url, { email })).status).toBe(303);
    await waitFor(async () => (await orderRow(orderId)).receipt_bounced_at !== null, "the bounce");
    return { orderId, sessionId, product };
  }

  it("bounces, alerts once, offers the correction and moves the purchase only on sign-in", async () => {
    const { orderId, sessionId, product } = await buy("typo@example.com");
    expect(asked("typo@example.com")).toBe(1);
    await resendUndeliveredReceipts({ ctx: h.ctx });
    expect(asked("typo@example.com")).toBe(1);
    const orders = (await (await h.admin("/api/admin/orders?limit=50")).json()) as {
      orders: { id: string; receipt: string }[];
    };
    expect(orders.orders.find((o) => o.id === orderId)?.receipt).toBe("bounced");

    // The seller is alerted once per bounce, however often the pass runs.
    expect(await alertBouncedReceipts({ ctx: h.ctx })).toBe(1);
    expect(await alertBouncedReceipts({ ctx: h.ctx })).toBe(0);
    const alerts = mailsTo("owner@shop.test").filter((m) =>
      (m.mail.subject ?? "").includes("A receipt bounced"),
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.mail.text).toContain("typo@example.com");

    // The paying browser's success page says so and offers the form.
    const success = await h.request(`/checkout/success?session_id=${sessionId}`, {
      headers: { accept: "text/html" },
    });
    const page = textOf(await success.text());
    expect(page).toContain("Your receipt could not be delivered");
    expect(page).toContain("The mail server for typo@example.com refused your receipt");

    // Unknown and malformed session ids get one and the same answer; nothing is written.
    const unknown = await correct("cs_test_nosuchsession0000000", "right@example.com");
    const malformed = await correct("nonsense", "right@example.com");
    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(404);
    const message = (r: Response) => r.json().then((b) => (b as { message: string }).message);
    const refusal = await message(unknown);
    expect(refusal).toContain("There is no bounced receipt to correct");
    expect(await message(malformed)).toBe(refusal);
    expect(mailsTo("right@example.com")).toHaveLength(0);

    // A first correction, replaced by a second: the first's sign-in moves nothing.
    expect((await correct(sessionId, "wrong@example.com")).status).toBe(202);
    const second = await h.request("/checkout/correct-email", {
      method: "POST",
      headers: form,
      body: new URLSearchParams({ sessionId, email: "Right@Example.com" }).toString(),
    });
    expect(second.status).toBe(200);
    expect(textOf(await second.text())).toContain("We sent a sign-in link to right@example.com");
    await waitFor(async () => mailsTo("right@example.com").length === 1, "the sign-in mail");

    const replaced = await h.request(signInLink("wrong@example.com"));
    expect(replaced.status).toBe(303);
    // Until the link is used, the old address keeps the purchase and the new one has nothing.
    expect(await entitlementOf(orderId)).toMatchObject({ email: "typo@example.com" });
    expect((await orderRow(orderId)).email).toBe("typo@example.com");

    // The seller's order page says what the buyer asked for, and that nothing moved yet.
    const askedFor = textOf(await (await h.admin(`/admin/orders/${orderId}`)).text());
    expect(askedFor).toContain("Correction asked for. The buyer gave right@example.com instead");
    expect(askedFor).toContain("until then it stays with typo@example.com");
    expect(askedFor).not.toContain("wrong@example.com");

    // The seller's CRM hears who holds the access once it moves, and not before.
    const hook = await h.admin("/api/admin/webhook-endpoints", {
      method: "POST",
      json: { url: "http://127.0.0.1:9/hook", events: ["access.granted"] },
    });
    expect(hook.status).toBe(201);
    const granted = async () =>
      (
        await h.deps.db
          .selectFrom("webhook_deliveries")
          .select("payload")
          .where("event_type", "=", "access.granted")
          .execute()
      ).map((r) => JSON.parse(r.payload).data);
    expect(await granted()).toEqual([]);

    const signedIn = await h.request(signInLink("right@example.com"));
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe("/library?corrected=1");
    const cookie = signedIn.headers.get("set-cookie")?.split(";")[0] ?? "";
    const user = await h.deps.db
      .selectFrom("users")
      .selectAll()
      .where("email", "=", "right@example.com")
      .executeTakeFirstOrThrow();
    expect(await entitlementOf(orderId)).toMatchObject({
      email: "right@example.com",
      user_id: user.id,
    });
    expect(await orderRow(orderId)).toMatchObject({
      email: "right@example.com",
      user_id: user.id,
    });
    const history = await h.deps.db
      .selectFrom("access_events")
      .selectAll()
      .where("entitlement_id", "=", (await entitlementOf(orderId)).id)
      .where("change", "=", "granted")
      .execute();
    expect(history.map((e) => e.reason)).toContain("email corrected from t…@… after a bounce");
    const moved = textOf(await (await h.admin(`/admin/orders/${orderId}`)).text());
    expect(moved).toContain(
      "Moved to right@example.com from typo@example.com after the receipt bounced",
    );
    expect(moved).not.toContain("Correction asked for");
    expect(await granted()).toEqual([
      expect.objectContaining({
        email: "right@example.com",
        userId: user.id,
        orderId,
        status: "active",
        productSlug: expect.any(String),
      }),
    ]);

    // A fresh receipt goes to the new address.
    await waitFor(
      async () =>
        mailsTo("right@example.com").some((m) => (m.mail.subject ?? "").includes("Your purchase")),
      "the new receipt",
    );
    await waitFor(async () => (await orderRow(orderId)).receipt_delivered_at !== null, "delivery");
    const library = textOf(
      await (
        await h.request("/library?corrected=1", { cookie, headers: { accept: "text/html" } })
      ).text(),
    );
    expect(library).toContain(`${product.name} now belongs to right@example.com`);

    // Once only: the correction is spent, and the page offers nothing any more.
    const again = await correct(sessionId, "other@example.com");
    expect(again.status).toBe(404);
    expect(await message(again)).toBe(refusal);
    expect((await h.request(signInLink("right@example.com"))).status).not.toBe(303);
  }, 90_000);

  it("limits corrections per client", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++)
      statuses.push((await correct(`cs_test_made_up_${i}_0000000000`, "a@example.com")).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 404 && s !== 429)).toEqual([]);
  }, 30_000);
});
