import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { grantAccess } from "../../src/core/access/entitlements.ts";
import { sendQueuedReceipts } from "../../src/core/orders/receipts.ts";
import type { Logger } from "../../src/core/ports.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { paidOrderWithQueuedReceipt } from "../support/receipts.ts";

/**
 * The background sender mails a batch of receipts at once (up to 16), their links made together:
 * each buyer's link opens exactly the product that buyer paid for, through an entitlement of
 * theirs that is active; a receipt whose access ended between queueing and sending (refunded,
 * revoked) is dropped without retry and its buyer gets no link.
 */
describe.each(dialects)("a batch of receipts' links, on %s", (dialect) => {
  let h: Harness;
  const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = {
    info: (message, fields = {}) => logged.push({ level: "info", message, fields }),
    warn: (message, fields = {}) => logged.push({ level: "warn", message, fields }),
    error: (message, fields = {}) => logged.push({ level: "error", message, fields }),
  };
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { log });
  });
  afterAll(() => h.close());

  const productWithFile = async (filename: string) => {
    const product = await h.createProduct({ name: `Kit ${filename}` });
    const asset = await h.upload(product.slug, filename, `bytes of ${filename}`);
    return { ...product, assetId: asset.id, filename };
  };

  const paidOrder = (
    id: string,
    productId: string,
    buyer: { email?: string; userId?: string },
    grant = true,
  ) => paidOrderWithQueuedReceipt(h, id, productId, buyer, grant);

  const receiptsTo = (email: string) => readOutbox(h.deps.db, { to: email, limit: 10 });
  const linkIn = (text: string) => /http:\/\/shop\.test\/d\/(tgd_[\w-]+)/.exec(text)?.[1];

  /** What the link opens: the page's files, and which of these files it downloads. */
  const opens = async (token: string, files: { assetId: string; filename: string }[]) => {
    const page = await h.request(`/d/${token}`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const listed = files.filter((f) => html.includes(f.filename)).map((f) => f.filename);
    const downloads: string[] = [];
    for (const f of files) {
      const res = await h.request(`/d/${token}/${f.assetId}`);
      if (res.status === 200) {
        expect(await res.text()).toBe(`bytes of ${f.filename}`);
        downloads.push(f.filename);
      } else {
        expect(res.status).toBeGreaterThanOrEqual(400);
        await res.body?.cancel();
      }
    }
    return { listed, downloads };
  };

  it("gives each buyer in the batch a link to exactly their own product, and none to a buyer whose access ended", async () => {
    const [a, b, c] = [
      await productWithFile(`a-${dialect}.zip`),
      await productWithFile(`b-${dialect}.zip`),
      await productWithFile(`c-${dialect}.zip`),
    ];
    const files = [a, b, c];
    const user = { id: `usr_batch_${dialect}`, email: `member-${dialect}@example.com` };
    await h.deps.db
      .insertInto("users")
      .values({ ...user, created_at: h.clock.now() })
      .execute();

    const guest = `guest-${dialect}@example.com`;
    const other = `other-${dialect}@example.com`;
    const twice = `twice-${dialect}@example.com`;
    const refunded = `refunded-${dialect}@example.com`;
    const revoked = `revoked-${dialect}@example.com`;
    // A guest who bought two products: two receipts, each with its own product's link.
    await paidOrder(`ord_ga_${dialect}`, a.id, { email: guest });
    await paidOrder(`ord_gb_${dialect}`, b.id, { email: guest });
    // Another guest buying one of the same products.
    await paidOrder(`ord_oa_${dialect}`, a.id, { email: other });
    // A signed-in buyer: the order and entitlement carry their user id only.
    await paidOrder(`ord_uc_${dialect}`, c.id, { userId: user.id });
    // A buyer with an older entitlement to the product that was revoked, and this purchase.
    const old = await grantAccess({
      ctx: h.ctx,
      input: { productId: c.id, owner: { email: twice }, source: "grant", sourceRef: twice },
    });
    await h.deps.db
      .updateTable("entitlements")
      .set({ status: "revoked", revoked_reason: "revoked by the seller" })
      .where("id", "=", old.id)
      .execute();
    const current = await paidOrder(`ord_tc_${dialect}`, c.id, { email: twice });
    // Refunded, and revoked, after the receipt was queued but before it was sent.
    const refund = await paidOrder(`ord_rb_${dialect}`, b.id, { email: refunded });
    const revoke = await paidOrder(`ord_vb_${dialect}`, b.id, { email: revoked });
    await h.deps.db
      .updateTable("entitlements")
      .set({ status: "revoked", revoked_reason: "refunded" })
      .where("id", "=", refund?.id ?? "")
      .execute();
    await h.deps.db
      .updateTable("entitlements")
      .set({ status: "revoked", revoked_reason: "revoked by the seller" })
      .where("id", "=", revoke?.id ?? "")
      .execute();
    const orderIds = [
      `ord_ga_${dialect}`,
      `ord_gb_${dialect}`,
      `ord_oa_${dialect}`,
      `ord_uc_${dialect}`,
      `ord_tc_${dialect}`,
      `ord_rb_${dialect}`,
      `ord_vb_${dialect}`,
    ];

    logged.length = 0;
    const sent = await sendQueuedReceipts({ ctx: h.ctx, input: { orderIds } });
    expect(sent).toEqual({ claimed: 7, tried: 5 });

    // The guest's two receipts: one link to each product.
    const guestMails = await receiptsTo(guest);
    expect(guestMails).toHaveLength(2);
    const byProduct = new Map(
      guestMails.map((m) => [m.subject.replace("Your purchase: ", ""), linkIn(m.text)]),
    );
    expect([...byProduct.keys()].sort()).toEqual([a.name, b.name].sort());
    expect(await opens(byProduct.get(a.name) ?? "", files)).toEqual({
      listed: [a.filename],
      downloads: [a.filename],
    });
    expect(await opens(byProduct.get(b.name) ?? "", files)).toEqual({
      listed: [b.filename],
      downloads: [b.filename],
    });
    for (const [email, product] of [
      [other, a],
      [user.email, c],
      [twice, c],
    ] as const) {
      const mails = await receiptsTo(email);
      expect(mails, email).toHaveLength(1);
      expect(mails[0]?.subject).toBe(`Your purchase: ${product.name}`);
      expect(await opens(linkIn(mails[0]?.text ?? "") ?? "", files), email).toEqual({
        listed: [product.filename],
        downloads: [product.filename],
      });
    }
    // The buyer with a revoked entitlement as well: the link is the purchase's, the active one.
    const twiceLink = linkIn((await receiptsTo(twice))[0]?.text ?? "") ?? "";
    const tokens = await h.deps.db
      .selectFrom("delivery_tokens")
      .select(["entitlement_id", "asset_id", "max_uses", "expires_at", "created_at"])
      .where(
        "entitlement_id",
        "in",
        [current?.id, old.id].filter((x): x is string => !!x),
      )
      .execute();
    expect(tokens.map((t) => t.entitlement_id)).toEqual([current?.id]);
    expect(twiceLink).toMatch(/^tgd_/);
    // The links are the shop's usual ones: for every file, the configured life and uses.
    const made = await h.deps.db
      .selectFrom("delivery_tokens")
      .select(["asset_id", "max_uses", "expires_at", "created_at"])
      .execute();
    expect(made).toHaveLength(5);
    for (const t of made) {
      expect(t.asset_id).toBeNull();
      expect(t.max_uses).toBe(h.ctx.settings.delivery.tokenMaxUses);
      // (Within the millisecond the test clock ticks per reading.)
      const life = Number(t.expires_at) - Number(t.created_at);
      const ttl = h.ctx.settings.delivery.tokenTtlSeconds * 1000;
      expect(life).toBeGreaterThanOrEqual(ttl - 1);
      expect(life).toBeLessThanOrEqual(ttl);
    }

    // No access any more: no mail, no link, and the row is gone (not retried).
    expect(await receiptsTo(refunded)).toHaveLength(0);
    expect(await receiptsTo(revoked)).toHaveLength(0);
    const queued = await h.deps.db
      .selectFrom("receipt_queue")
      .select("order_id")
      .where("order_id", "in", orderIds)
      .execute();
    expect(queued).toEqual([]);
    const undelivered = await h.deps.db
      .selectFrom("orders")
      .select("id")
      .where("id", "in", orderIds)
      .where("receipt_delivered_at", "is", null)
      .orderBy("id")
      .execute();
    expect(undelivered.map((o) => o.id)).toEqual([`ord_rb_${dialect}`, `ord_vb_${dialect}`]);

    // Said as before: one line per link made, one per receipt sent, and why the two were not.
    expect(logged.filter((l) => l.message === "download link created")).toHaveLength(5);
    expect(
      logged
        .filter((l) => l.message === "receipt sent")
        .map((l) => l.fields.orderId)
        .sort(),
    ).toEqual(orderIds.slice(0, 5).sort());
    expect(
      logged
        .filter((l) => l.message === "receipt not sent")
        .map((l): Record<string, unknown> => ({ level: l.level, ...l.fields }))
        .sort((x, y) => String(x.orderId).localeCompare(String(y.orderId))),
    ).toEqual([
      {
        level: "warn",
        orderId: `ord_rb_${dialect}`,
        reason: "This purchase was refunded, so its files are no longer available.",
      },
      {
        level: "warn",
        orderId: `ord_vb_${dialect}`,
        reason: "Your access to this product has been revoked.",
      },
    ]);
  });
});
