import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireAccess } from "../../src/core/access/accessRule.ts";
import { grantAccess } from "../../src/core/access/entitlements.ts";
import { createProduct } from "../../src/core/catalog/products.ts";
import { db } from "../../src/core/context.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

describe.each(dialects)("the access rule on %s", (dialect) => {
  let h: Harness;
  let productId: string;
  beforeAll(async () => {
    h = await makeHarness(dialect);
    productId = (
      await createProduct({
        ctx: h.ctx,
        input: { slug: "rule", name: "Rule", price: { amount: 500, currency: "usd" } },
      })
    ).id;
  });
  afterAll(() => h.close());

  const grant = (sourceRef: string, owner: { userId?: string; email?: string }, extra = {}) =>
    grantAccess({
      ctx: h.ctx,
      input: { productId, owner, source: "purchase", sourceRef, ...extra },
    });

  it("owns by user id, or by verified email; nobody else does", async () => {
    await grant("ord_byuser", { userId: "usr_a" });
    await grant("ord_byemail", { email: "B@Example.com" });
    await expect(
      requireAccess(h.ctx, { userId: "usr_a", email: null }, productId),
    ).resolves.toMatchObject({ source_ref: "ord_byuser" });
    await expect(
      requireAccess(h.ctx, { userId: "usr_other", email: "b@example.com" }, productId),
    ).resolves.toMatchObject({
      source_ref: "ord_byemail",
    });
    await expect(
      requireAccess(h.ctx, { userId: "usr_c", email: "c@example.com" }, productId),
    ).rejects.toMatchObject({
      code: "forbidden",
      message: "You have not purchased this product.",
    });
    await expect(
      requireAccess(h.ctx, { userId: null, email: null }, productId),
    ).rejects.toMatchObject({ code: "forbidden" });
  });

  it("says why access ended: refunded, dispute, subscription over", async () => {
    const refunded = await grant("ord_refund", { email: "r@example.com" });
    await db(h.ctx)
      .updateTable("entitlements")
      .set({ status: "revoked", revoked_reason: "refunded" })
      .where("id", "=", refunded.id)
      .execute();
    await expect(
      requireAccess(h.ctx, { userId: null, email: "r@example.com" }, productId),
    ).rejects.toMatchObject({
      message: expect.stringContaining("refunded"),
    });
    const disputed = await grant("ord_dispute", { email: "d@example.com" });
    await db(h.ctx)
      .updateTable("entitlements")
      .set({ status: "suspended" })
      .where("id", "=", disputed.id)
      .execute();
    await expect(
      requireAccess(h.ctx, { userId: null, email: "d@example.com" }, productId),
    ).rejects.toMatchObject({
      message: expect.stringContaining("dispute"),
    });
    await grant("sub_over", { email: "s@example.com" }, { endsAt: h.clock.now() + 1000 });
    await expect(
      requireAccess(h.ctx, { userId: null, email: "s@example.com" }, productId),
    ).resolves.toBeDefined();
    h.clock.advance(2000);
    await expect(
      requireAccess(h.ctx, { userId: null, email: "s@example.com" }, productId),
    ).rejects.toMatchObject({
      message: expect.stringContaining("subscription"),
    });
  });

  it("granting the same source ten times at once makes exactly one entitlement", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => grant("ord_race", { email: "race@example.com" })),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const rows = await db(h.ctx)
      .selectFrom("entitlements")
      .selectAll()
      .where("source_ref", "=", "ord_race")
      .execute();
    expect(rows).toHaveLength(1);
  });

  it("a revoked purchase is not turned back on by a repeated grant of the same source", async () => {
    const first = await grant("ord_final", { email: "f@example.com" });
    await db(h.ctx)
      .updateTable("entitlements")
      .set({ status: "revoked", revoked_reason: "refunded" })
      .where("id", "=", first.id)
      .execute();
    const again = await grant("ord_final", { email: "f@example.com" });
    expect(again).toMatchObject({ id: first.id, status: "revoked" });
  });
});
