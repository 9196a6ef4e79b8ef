import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/adapters/log-console/index.ts";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { backgroundReceiptSender } from "../../src/core/orders/receipts.ts";
import { yieldWhileBusy } from "../../src/runtime/pace.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { PATIENCE_MS } from "../support/patience.ts";
import { paidOrderWithQueuedReceipt } from "../support/receipts.ts";

/**
 * The background sender drains the receipt queue in batches, and between two batches waits for
 * its runtime's pace (runtime/pace.ts): a burst of payments is answered first, and every receipt
 * still goes out, once.
 */
describe.each(dialects)("the background receipt sender, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  /** `count` paid orders of one product, each with its entitlement and its queued receipt. */
  const paidOrders = async (prefix: string, count: number) => {
    const product = await h.createProduct({ name: `Kit ${prefix}` });
    await h.upload(product.slug, `${prefix}.zip`, `bytes of ${prefix}`);
    const orders = Array.from({ length: count }, (_, i) => ({
      id: `ord_${prefix}_${i}`,
      email: `${prefix}-${i}@example.com`,
    }));
    for (const { id, email } of orders)
      await paidOrderWithQueuedReceipt(h, id, product.id, { email });
    return orders;
  };

  const receiptsTo = async (emails: string[]) =>
    (await readOutbox(h.deps.db, { limit: 1000 })).filter((m) => emails.includes(m.to));
  const queued = async () =>
    (await h.deps.db.selectFrom("receipt_queue").select("order_id").execute()).length;

  it("sends no further batch until its pace lets it, then every receipt once", async () => {
    const orders = await paidOrders(`paced-${dialect}`, 40);
    const emails = orders.map((o) => o.email);
    const pauses: { batchMs: number; resume: () => void }[] = [];
    const sender = backgroundReceiptSender(silentLogger, {
      pace: (batchMs) => new Promise<void>((resume) => pauses.push({ batchMs, resume })),
    });
    sender.start(h.ctx);

    // The first batch goes out, and the sender waits for its pace.
    await expect.poll(() => pauses.length, { timeout: PATIENCE_MS }).toBe(1);
    expect(await receiptsTo(emails)).toHaveLength(16);
    expect(await queued()).toBe(24);
    expect(pauses[0]?.batchMs).toBeGreaterThan(0);

    // Each pause let go lets exactly one more batch out.
    pauses[0]?.resume();
    await expect.poll(() => pauses.length, { timeout: PATIENCE_MS }).toBe(2);
    expect(await receiptsTo(emails)).toHaveLength(32);
    pauses[1]?.resume();
    await expect.poll(() => pauses.length, { timeout: PATIENCE_MS }).toBe(3);
    pauses[2]?.resume();
    await sender.stop();

    const sent = await receiptsTo(emails);
    expect(sent.map((m) => m.to).sort()).toEqual([...emails].sort());
    expect(await queued()).toBe(0);
  });
});

describe("pacing a background job on Node", () => {
  const elapsed = async (fn: () => Promise<void>) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };

  it("waits twice as long as the last piece of work took while the event loop is busy", async () => {
    const pace = yieldWhileBusy();
    // Requests being answered: the loop runs without a break.
    const until = performance.now() + 60;
    while (performance.now() < until) {}
    expect(await elapsed(() => pace(30))).toBeGreaterThanOrEqual(59);
  });

  it("does not wait while the event loop is idle", async () => {
    const pace = yieldWhileBusy();
    await new Promise((r) => setTimeout(r, 60));
    // A pause would be 20 seconds: the test's own time limit is far shorter.
    expect(await elapsed(() => pace(10_000))).toBeLessThan(5_000);
  });
});
