import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resendUndeliveredReceipts } from "../../src/core/orders/receipts.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

/**
 * A receipt is queued in the payment's transaction and mailed after the answer by a sender that
 * holds the queue row under a 10-minute lease. A process that dies while sending leaves the row
 * held and the receipt undelivered: once the lease is over, the housekeeping run sends it, once.
 */
describe.each(dialects)("receipts that never went out, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
  });
  afterAll(() => h.close());

  const receiptsTo = async (email: string) =>
    (await (await h.admin(`/api/admin/outbox?to=${encodeURIComponent(email)}`)).json()).messages
      .length as number;

  async function paidOrder(email: string) {
    const product = await h.createProduct();
    await h.upload(product.slug, "kit.zip", "kit");
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const { url, orderId } = (await res.json()) as { url: string; orderId: string };
    await payOnHostedPage(url, { email });
    // The mail lands in the outbox a moment before the order records it as delivered: wait for
    // both, or a busy machine lets that late write undo what the test sets up next.
    await waitFor(async () => (await receiptsTo(email)) === 1, "the first receipt");
    await waitFor(
      async () =>
        (
          await h.deps.db
            .selectFrom("orders")
            .select("receipt_delivered_at")
            .where("id", "=", orderId)
            .executeTakeFirstOrThrow()
        ).receipt_delivered_at !== null,
      "the first receipt recorded as delivered",
    );
    // The sender looks once more for due receipts after its batch (after a pause while the
    // machine is busy): let it finish, or that look takes the receipt the test loses next.
    await h.runtime.receiptsSettled();
    return orderId;
  }

  /** What a sender that died `ago` ms after claiming the receipt leaves: the row it held, the
   * receipt not delivered. */
  const loseReceipt = async (orderId: string, ago: number) => {
    const claimedAt = h.clock.now() - ago;
    await h.deps.db
      .updateTable("orders")
      .set({ receipt_sent_at: claimedAt, receipt_delivered_at: null })
      .where("id", "=", orderId)
      .execute();
    await h.deps.db
      .insertInto("receipt_queue")
      .values({
        order_id: orderId,
        due_at: claimedAt,
        lease_until: claimedAt + 10 * 60_000,
        attempts: 1,
        last_error: null,
        created_at: claimedAt,
      })
      .execute();
  };

  it("sends a lost receipt once, however many housekeeping runs race for it", async () => {
    const orderId = await paidOrder("lost@example.com");
    const delivered = await h.deps.db
      .selectFrom("orders")
      .select("receipt_delivered_at")
      .where("id", "=", orderId)
      .executeTakeFirstOrThrow();
    expect(delivered.receipt_delivered_at).not.toBeNull();

    await loseReceipt(orderId, 11 * 60_000);
    const runs = await Promise.all([1, 2, 3].map(() => resendUndeliveredReceipts({ ctx: h.ctx })));
    expect(runs.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await receiptsTo("lost@example.com")).toBe(2);
    expect(await resendUndeliveredReceipts({ ctx: h.ctx })).toBe(0);
    expect(await receiptsTo("lost@example.com")).toBe(2);
  });

  it("leaves a receipt that may still be on its way, and one already delivered", async () => {
    const sending = await paidOrder("sending@example.com");
    await paidOrder("delivered@example.com");
    await loseReceipt(sending, 60_000);
    expect(await resendUndeliveredReceipts({ ctx: h.ctx })).toBe(0);
    expect(await receiptsTo("sending@example.com")).toBe(1);
    expect(await receiptsTo("delivered@example.com")).toBe(1);
  });

  it("leaves an order paid more than a day ago to the seller", async () => {
    const old = await paidOrder("old@example.com");
    await loseReceipt(old, 11 * 60_000);
    await h.deps.db
      .updateTable("orders")
      .set({ updated_at: h.clock.now() - 25 * 3600_000 })
      .where("id", "=", old)
      .execute();
    expect(await resendUndeliveredReceipts({ ctx: h.ctx })).toBe(0);
    expect(await receiptsTo("old@example.com")).toBe(1);
  });
});
