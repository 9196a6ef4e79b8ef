import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { waitFor } from "../support/stripe.ts";

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

/**
 * Decision 0010: a 302's log row may land after the answer, batched; a limited link's counted
 * use never does. Requests go straight to the app here (the harness's own `request` waits for
 * the late rows, as most tests want).
 */
describe.each(dialects)("the download log on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, { DELIVERY_MODE: "redirect" });
  });
  afterAll(() => h.close());

  const direct = (path: string, cookie?: string) =>
    h.runtime.app.request(new URL(path, PUBLIC_URL).toString(), {
      headers: cookie ? { cookie } : {},
    });
  const rowsOf = async (tokenId: string | null, userId: string | null) => {
    let query = h.runtime.deps.db.selectFrom("downloads").select(["id", "link"]);
    if (tokenId) query = query.where("token_id", "=", tokenId);
    if (userId) query = query.where("user_id", "=", userId);
    return query.execute();
  };

  it("logs a signed-in owner's downloads after the answer, every one, in order of time", async () => {
    const email = uniqueEmail("late");
    const { product, asset } = await h.ownedProduct(email);
    const cookie = await h.signIn(email);
    const user = await h.runtime.deps.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", email)
      .executeTakeFirstOrThrow();
    for (let i = 0; i < 20; i++)
      expect((await direct(`/download/${product.slug}/${asset.id}`, cookie)).status).toBe(302);
    await waitFor(async () => (await rowsOf(null, user.id)).length === 20, "20 log rows");
    const rows = await rowsOf(null, user.id);
    expect(new Set(rows.map((r) => r.id)).size).toBe(20);
    expect(rows.every((r) => r.link === `user:${user.id}`)).toBe(true);
  });

  it("counts a limited link's use before its answer, and refuses the use past its limit", async () => {
    const email = uniqueEmail("durable");
    const { product, asset } = await h.ownedProduct(email);
    const created = await h.token({ email, product: product.slug, maxUses: 2 });
    const path = `/d/${created.token}/${asset.id}`;
    const statuses = await Promise.all(Array.from({ length: 6 }, () => direct(path)));
    expect(statuses.map((r) => r.status).sort()).toEqual([302, 302, 410, 410, 410, 410]);
    // Read at once, without waiting for anything written after the answers.
    const token = await h.runtime.deps.db
      .selectFrom("delivery_tokens")
      .select(["id", "uses"])
      .where("max_uses", "=", 2)
      .orderBy("created_at", "desc")
      .executeTakeFirstOrThrow();
    expect(token.uses).toBe(2);
    expect(await rowsOf(token.id, null)).toHaveLength(2);
  });

  it("counts an unlimited link's uses with its late rows", async () => {
    const email = uniqueEmail("unlimited");
    const { product, asset } = await h.ownedProduct(email);
    const created = await h.token({ email, product: product.slug, maxUses: null });
    for (let i = 0; i < 5; i++)
      expect((await direct(`/d/${created.token}/${asset.id}`)).status).toBe(302);
    await h.runtime.settle();
    const token = await h.runtime.deps.db
      .selectFrom("delivery_tokens")
      .select(["id", "uses"])
      .where("max_uses", "is", null)
      .orderBy("created_at", "desc")
      .executeTakeFirstOrThrow();
    expect(token.uses).toBe(5);
    expect(await rowsOf(token.id, null)).toHaveLength(5);
  });
});
