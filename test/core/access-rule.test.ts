import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entitlementsOf, type Holder, holderOf, holds } from "../../src/core/access/accessRule.ts";
import { downloadFacts } from "../../src/core/access/downloadFacts.ts";
import { listEntitlements } from "../../src/core/access/entitlements.ts";
import { createProduct } from "../../src/core/catalog/products.ts";
import { db } from "../../src/core/context.ts";
import type { Entitlement } from "../../src/db/schema.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

/**
 * "Does this person own this product" has one statement, `holds`, and three queries that ask it:
 * entitlementsOf and listEntitlements (through `heldBy`) and the download's single query in
 * downloadFacts.ts, kept for speed. Over generated entitlements, every query picks exactly the
 * entitlements the rule does, for every person and product.
 */
const USERS = [
  { id: "usr_1", email: "a@rule.test" },
  { id: "usr_2", email: "b@rule.test" },
  // An account whose address holds nothing by email.
  { id: "usr_3", email: "d@rule.test" },
];
const USER_IDS = [null, ...USERS.map((u) => u.id)];
const EMAILS = [null, "a@rule.test", "b@rule.test", "c@rule.test", "d@rule.test"];
const HOLDERS: Holder[] = USER_IDS.flatMap((userId) => EMAILS.map((email) => ({ userId, email })));

const entitlement = fc
  .record({
    userId: fc.constantFrom(...USER_IDS),
    email: fc.constantFrom(...EMAILS),
    product: fc.constantFrom(0, 1),
    status: fc.constantFrom("active", "revoked", "suspended"),
    ended: fc.boolean(),
  })
  .filter((e) => e.userId !== null || e.email !== null);

describe.each(dialects)("the access rule's queries on %s", (dialect) => {
  let h: Harness;
  const products: { id: string; slug: string }[] = [];
  beforeAll(async () => {
    h = await makeHarness(dialect);
    for (const slug of ["rule-one", "rule-two"]) {
      const input = { slug, name: slug, price: { amount: 500, currency: "usd" } };
      products.push(await createProduct({ ctx: h.ctx, input }));
    }
    await db(h.ctx)
      .insertInto("users")
      .values(USERS.map((u) => ({ ...u, created_at: 0 })))
      .execute();
  });
  afterAll(() => h.close());

  const ids = (rows: Pick<Entitlement, "id">[]) => rows.map((e) => e.id).sort();
  const byId = (rows: Entitlement[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));

  it("the download's single query and the listings pick what the rule picks, for everyone", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entitlement, { maxLength: 12 }), async (generated) => {
        const now = h.clock.now();
        const rows: Entitlement[] = generated.map((e, i) => ({
          id: `ent_${i}`,
          user_id: e.userId,
          email: e.email,
          product_id: (products[e.product] as { id: string }).id,
          source: "grant",
          source_ref: `rule:${i}`,
          status: e.status as Entitlement["status"],
          starts_at: now - 1000,
          ends_at: e.ended ? now - 1 : null,
          revoked_reason: e.status === "revoked" ? "refunded" : null,
          created_at: now + i,
          updated_at: now,
          sharing_flagged_at: null,
        }));
        await db(h.ctx).deleteFrom("entitlements").execute();
        if (rows.length > 0) await db(h.ctx).insertInto("entitlements").values(rows).execute();

        for (const product of products) {
          const ofProduct = rows.filter((e) => e.product_id === product.id);
          for (const holder of HOLDERS) {
            const rule = ids(ofProduct.filter((e) => holds(holder, e)));
            const held = byId(await entitlementsOf(h.ctx, holder, product.id));
            expect(ids(held)).toEqual(rule);
            const facts = await downloadFacts(h.ctx, {
              slug: product.slug,
              assetId: "ast_none",
              holder,
            });
            // The same rows, column for column, whatever status they are in.
            expect(byId(facts?.entitlements ?? [])).toEqual(held);
          }
          for (const email of EMAILS) {
            if (!email) continue;
            const holder = await holderOf(h.ctx, email.toUpperCase());
            const listed = await listEntitlements({
              ctx: h.ctx,
              input: { email, productSlug: product.slug },
            });
            expect(ids(listed)).toEqual(ids(ofProduct.filter((e) => holds(holder, e))));
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("holds: by user id, or by verified email; a holder with neither owns nothing", () => {
    const row = { user_id: "usr_1", email: "a@rule.test" };
    expect(holds({ userId: "usr_1", email: null }, row)).toBe(true);
    expect(holds({ userId: "usr_9", email: "a@rule.test" }, row)).toBe(true);
    expect(holds({ userId: "usr_9", email: "b@rule.test" }, row)).toBe(false);
    expect(holds({ userId: null, email: null }, { user_id: null, email: null })).toBe(false);
  });
});
