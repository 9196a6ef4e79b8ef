import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anonymous } from "../../src/core/context.ts";
import { EXPIRED_LINK_RETENTION_MS, sweepExpired } from "../../src/core/maintenance.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const DAY = 86_400_000;

describe.each(dialects)("deleting expired records on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  it("drops expired sessions, sign-in links, long-dead download links and stale counters, and keeps the rest", async () => {
    const { db } = h.deps;
    const now = h.clock.time;
    await db
      .insertInto("users")
      .values({ id: "usr_m", email: "m@example.com", created_at: now })
      .execute();
    await db
      .insertInto("sessions")
      .values([
        { token_hash: "s-old", user_id: "usr_m", expires_at: now - 1, created_at: now - DAY },
        { token_hash: "s-live", user_id: "usr_m", expires_at: now + DAY, created_at: now },
      ])
      .execute();
    await db
      .insertInto("login_tokens")
      .values([
        {
          token_hash: "l-old",
          code_hash: "c",
          email: "m@example.com",
          expires_at: now - 1,
          created_at: now,
        },
        {
          token_hash: "l-live",
          code_hash: "c",
          email: "m@example.com",
          expires_at: now + 60_000,
          created_at: now,
        },
      ])
      .execute();
    await db
      .insertInto("rate_limits")
      .values([
        { key: "r-old", window_start: now - 2 * DAY, count: 3 },
        { key: "r-live", window_start: now - 60_000, count: 3 },
      ])
      .execute();
    await h.ownedProduct("m@example.com");
    const links = [
      await h.token({ email: "m@example.com", product: (await productSlug()) as string }),
      await h.token({ email: "m@example.com", product: (await productSlug()) as string }),
    ];
    const rows = await db
      .selectFrom("delivery_tokens")
      .select("id")
      .orderBy("created_at")
      .execute();
    const [longDead, recentlyExpired] = rows.slice(-2).map((r) => r.id);
    await db
      .updateTable("delivery_tokens")
      .set({ expires_at: now - EXPIRED_LINK_RETENTION_MS - 1 })
      .where("id", "=", longDead as string)
      .execute();
    await db
      .updateTable("delivery_tokens")
      .set({ expires_at: now - DAY })
      .where("id", "=", recentlyExpired as string)
      .execute();

    const report = await sweepExpired({ ctx: h.ctx });
    expect(report).toEqual({
      sessions: 1,
      loginTokens: 1,
      deliveryTokens: 1,
      rateLimits: 1,
      abandonedOrders: 0,
    });
    const keys = async (table: "sessions" | "login_tokens", column: "token_hash") =>
      (await db.selectFrom(table).select(column).execute()).map((r) => r[column]);
    expect(await keys("sessions", "token_hash")).toEqual(["s-live"]);
    expect(await keys("login_tokens", "token_hash")).toEqual(["l-live"]);
    expect((await db.selectFrom("rate_limits").select("key").execute()).map((r) => r.key)).toEqual([
      "r-live",
    ]);
    const left = (await db.selectFrom("delivery_tokens").select("id").execute()).map((r) => r.id);
    expect(left).toContain(recentlyExpired);
    expect(left).not.toContain(longDead);
    // A recently expired link still offers "send me a fresh link"; the long-dead one is unknown.
    const page = (link: { url: string } | undefined) =>
      h.request(new URL(link?.url as string).pathname, { headers: { accept: "text/html" } });
    expect(await (await page(links[1])).text()).toContain("Send me a fresh link");
    expect(await (await page(links[0])).text()).not.toContain("Send me a fresh link");

    expect(await sweepExpired({ ctx: h.ctx })).toEqual({
      sessions: 0,
      loginTokens: 0,
      deliveryTokens: 0,
      rateLimits: 0,
      abandonedOrders: 0,
    });
  });

  it("is the seller's to run, not a visitor's", async () => {
    await expect(sweepExpired({ ctx: { ...h.ctx, actor: anonymous } })).rejects.toMatchObject({
      code: "unauthenticated",
    });
  });

  async function productSlug() {
    const res = await h.admin("/api/admin/products");
    const { products } = (await res.json()) as { products: { slug: string }[] };
    return products.at(-1)?.slug;
  }
});
