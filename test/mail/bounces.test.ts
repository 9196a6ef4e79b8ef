import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resendUndeliveredReceipts } from "../../src/core/orders/receipts.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp-server.ts";

interface OrderSummary {
  id: string;
  status: string;
  email: string | null;
  receipt: "sent" | "pending" | "bounced";
  receiptBounce: { at: string; reason: string } | null;
}

const html = { accept: "text/html" };
/** The visible text of a page, for assertions about what the seller reads. */
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

/** The seller's view of one shop whose mail goes out through a real transport. */
function seller(h: Harness) {
  async function order(orderId: string): Promise<OrderSummary> {
    const { orders } = (await (await h.admin("/api/admin/orders?limit=200")).json()) as {
      orders: OrderSummary[];
    };
    const found = orders.find((o) => o.id === orderId);
    if (!found) throw new Error(`no order ${orderId}`);
    return found;
  }

  /** A guest buys a product with `email` through the local Stripe; the webhook pays the order. */
  async function buy(email: string): Promise<string> {
    const product = await h.createProduct({ name: "Bounce Kit" });
    await h.upload(product.slug, "kit.zip", "kit bytes");
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    expect(res.status).toBe(201);
    const { url, orderId } = (await res.json()) as { url: string; orderId: string };
    expect((await payOnHostedPage(url, { email })).status).toBe(303);
    await waitFor(async () => (await order(orderId)).status === "paid", "the payment");
    return orderId;
  }

  /** Waits until the receipt was tried: no longer claimed and not yet settled. */
  const settled = (orderId: string) =>
    waitFor(async () => {
      const row = await h.deps.db
        .selectFrom("orders")
        .select(["receipt_sent_at", "receipt_delivered_at", "receipt_bounced_at"])
        .where("id", "=", orderId)
        .executeTakeFirstOrThrow();
      return (
        row.receipt_delivered_at !== null ||
        row.receipt_bounced_at !== null ||
        row.receipt_sent_at === null
      );
    }, "the receipt's first try");

  const page = async (path: string) =>
    textOf(await (await h.admin(path, { headers: html })).text());

  return { order, buy, settled, page };
}

/**
 * A receipt the buyer's mail server refuses for good is not retried every 10 minutes for a day:
 * the order records the bounce with its reason and time, and the seller sees it on the order, in
 * the orders list, on the dashboard and in GET /api/admin/orders. A passing refusal is retried.
 */
describe.each(dialects)("receipts that bounce over SMTP, on %s", (dialect) => {
  let smtp: TestSmtpServer;
  let h: Harness;
  let shop: ReturnType<typeof seller>;
  beforeAll(async () => {
    smtp = await startSmtpServer({
      rejectRecipients: ["gone@example.com"],
      deferRecipients: ["busy@example.com"],
    });
    h = await makeHarness(
      dialect,
      { MAIL_URL: smtp.url(), MAIL_FROM: "Kit Shop <hello@kits.example>" },
      { stripe: true },
    );
    shop = seller(h);
  });
  afterAll(async () => {
    await h.close();
    await smtp.close();
  });

  const asked = (address: string) => smtp.recipientsAsked.filter((a) => a === address).length;

  it("a 550 for the buyer's address marks the receipt bounced, stops retries and shows it to the seller", async () => {
    const delivered = await shop.buy("fine@example.com");
    const bounced = await shop.buy("gone@example.com");
    await shop.settled(bounced);
    await shop.settled(delivered);

    expect(await shop.order(delivered)).toMatchObject({ receipt: "sent", receiptBounce: null });
    const order = await shop.order(bounced);
    expect(order).toMatchObject({
      status: "paid",
      receipt: "bounced",
      receiptBounce: {
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        reason: expect.stringContaining("rejected the recipient gone@example.com: 550"),
      },
    });
    expect(asked("gone@example.com")).toBe(1);

    // Housekeeping runs every 10 minutes for a day: it never tries the bounced receipt again.
    for (let run = 0; run < 6; run++) {
      h.clock.advance(11 * 60_000);
      await resendUndeliveredReceipts({ ctx: h.ctx });
    }
    // Back to Stripe's time: its webhooks' timestamps must stay within 5 minutes of ours.
    h.clock.advance(-66 * 60_000);
    expect(asked("gone@example.com")).toBe(1);
    expect((await shop.order(bounced)).receipt).toBe("bounced");

    const orderPage = await shop.page(`/admin/orders/${bounced}`);
    expect(orderPage).toContain("The receipt bounced.");
    expect(orderPage).toContain("550 No such user here");
    expect(await shop.page("/admin/orders")).toContain("receipt bounced");
    const dashboard = await shop.page("/admin");
    expect(dashboard).toContain("Receipts that bounced");
    expect(dashboard).toContain("gone@example.com");
    expect(dashboard).not.toContain("fine@example.com 550");

    // The seller may try once more; a second refusal says so, in the server's words.
    const resend = await h.admin(`/admin/orders/${bounced}/resend-receipt`, {
      method: "POST",
      headers: { ...html, origin: PUBLIC_URL },
    });
    expect(resend.status).toBe(400);
    expect(textOf(await resend.text())).toContain(
      "The receipt to gone@example.com bounced: SMTP server",
    );
    expect(asked("gone@example.com")).toBe(2);
    expect((await shop.order(bounced)).receipt).toBe("bounced");
  }, 60_000);

  it("a 450 (try later) is not a bounce: the receipt stays pending and housekeeping sends it again", async () => {
    const busy = await shop.buy("busy@example.com");
    await shop.settled(busy);
    expect(await shop.order(busy)).toMatchObject({ receipt: "pending", receiptBounce: null });
    expect(asked("busy@example.com")).toBe(1);
    await resendUndeliveredReceipts({ ctx: h.ctx });
    expect(asked("busy@example.com")).toBe(2);
    expect((await shop.order(busy)).receipt).toBe("pending");
    expect(await shop.page("/admin")).not.toContain("busy@example.com 450");
  }, 60_000);
});

describe.each(dialects)("receipts that bounce through an HTTP mail API, on %s", (dialect) => {
  let api: Server;
  const asked: string[] = [];
  let h: Harness;
  let shop: ReturnType<typeof seller>;
  beforeAll(async () => {
    // Resend-style: an address it will not mail is a 422 naming the `to` field.
    api = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const to = (JSON.parse(body) as { to: string[] }).to[0] ?? "";
        asked.push(to);
        const refused = to === "typo@example.con";
        res.writeHead(refused ? 422 : 200, { "content-type": "application/json" });
        res.end(
          JSON.stringify(
            refused
              ? { name: "validation_error", message: "Invalid `to` field: typo@example.con." }
              : { id: `email_${asked.length}` },
          ),
        );
      });
    });
    await new Promise<void>((ready) => api.listen(0, "127.0.0.1", ready));
    const { port } = api.address() as { port: number };
    h = await makeHarness(
      dialect,
      {
        MAIL_URL: `http://127.0.0.1:${port}/emails`,
        MAIL_API_KEY: "re_test_bounces_0123456789",
        MAIL_FROM: "Kit Shop <hello@kits.example>",
      },
      { stripe: true },
    );
    shop = seller(h);
  });
  afterAll(async () => {
    await h.close();
    api.closeAllConnections();
    await new Promise((done) => api.close(done));
  });

  it("a refused recipient marks the receipt bounced and is not sent again", async () => {
    const bounced = await shop.buy("typo@example.con");
    const delivered = await shop.buy("right@example.com");
    await shop.settled(bounced);
    await shop.settled(delivered);
    expect(await shop.order(delivered)).toMatchObject({ receipt: "sent" });
    expect(await shop.order(bounced)).toMatchObject({
      receipt: "bounced",
      receiptBounce: { reason: expect.stringContaining("answered 422: Invalid `to` field") },
    });
    const tries = asked.filter((a) => a === "typo@example.con").length;
    expect(tries).toBe(1);
    h.clock.advance(11 * 60_000);
    await resendUndeliveredReceipts({ ctx: h.ctx });
    h.clock.advance(-11 * 60_000);
    expect(asked.filter((a) => a === "typo@example.con").length).toBe(tries);
    expect(await shop.page(`/admin/orders/${bounced}`)).toContain("The receipt bounced.");
    expect(await shop.page("/admin")).toContain("typo@example.con");
  }, 60_000);
});
