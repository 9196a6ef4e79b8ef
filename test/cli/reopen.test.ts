import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { orderReference } from "../../src/core/orders/reference.ts";
import { cli } from "../support/cli.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

/**
 * `tollgate reopen` as a seller runs it: the real CLI in its own process on the SQLite database
 * of a shop whose order was bought through the local Stripe and then ended.
 */
describe("tollgate reopen", () => {
  let h: Harness;
  let env: Record<string, string>;
  const run = (args: string[]) => cli(args, env);
  const email = `cli-reopen-${Date.now()}@example.com`;
  let orderId = "";
  let slug = "";

  const entitlement = () =>
    h.deps.db
      .selectFrom("entitlements")
      .selectAll()
      .where("email", "=", email)
      .executeTakeFirstOrThrow();
  const history = () =>
    h.deps.db
      .selectFrom("access_events as a")
      .innerJoin("entitlements as e", "e.id", "a.entitlement_id")
      .select(["a.change", "a.by", "a.reason"])
      .where("e.email", "=", email)
      .orderBy("a.id")
      .execute();
  const mails = async () => (await readOutbox(h.deps.db, { to: email, limit: 100 })).length;

  beforeAll(async () => {
    h = await makeHarness("sqlite", {}, { stripe: true });
    env = { DATABASE_URL: h.config.database.url, PUBLIC_URL: "http://localhost:9999" };
    const product = await h.createProduct({
      name: "CLI Monthly",
      kind: "subscription",
      interval: "month",
      price: { amount: 500, currency: "usd" },
    });
    slug = product.slug;
    await h.upload(slug, "cli.zip", "cli bytes");
    const res = await h.request(`/checkout/${slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
    orderId = started.orderId;
    await payOnHostedPage(started.url, { email });
    await waitFor(async () => (await mails()) > 0, "the receipt");
    const cancel = await fetch(
      `${h.runtime.localStripeUrl}/_local/subscriptions/${started.sessionId}/cancel`,
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
    );
    expect(cancel.status).toBe(200);
    await waitFor(async () => (await entitlement()).status === "revoked", "the cancellation");
  });
  afterAll(() => h.close());

  it("says how to use it, with examples", async () => {
    const help = await run(["reopen", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: tollgate reopen [options] <order>");
    expect(help.stdout).toContain("--for <duration>");
    expect(help.stdout).toContain("$ tollgate reopen 7KQ4M-2ZPXA --for 7d");
  });

  it("refuses a bad duration and an unknown order in words, changing nothing", async () => {
    const before = { e: await entitlement(), h: await history(), m: await mails() };
    const [bad, unknown] = await Promise.all([
      run(["reopen", orderId, "--for", "soon"]),
      run(["reopen", "ZZZZZ-ZZZZZ"]),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Error: for: must be a duration like 7d or 48h");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Error: There is no such order.");
    expect({ e: await entitlement(), h: await history(), m: await mails() }).toEqual(before);
  });

  it("re-opens the ended order by its reference for 7 days, mails one fresh link, and the history says the CLI did it", async () => {
    const before = await mails();
    const reopened = await run(["reopen", orderReference(orderId), "--for", "7d"]);
    expect(reopened.stderr).toBe("");
    expect(reopened.code).toBe(0);
    expect(reopened.stdout).toMatch(
      new RegExp(
        `^Re-opened order ${orderReference(orderId)} until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\.`,
      ),
    );
    expect(reopened.stdout).toContain(`A fresh download link was mailed to ${email}.`);
    const row = await entitlement();
    expect(row.status).toBe("active");
    expect(Math.abs(Number(row.ends_at) - (Date.now() + 7 * 86_400_000))).toBeLessThan(120_000);
    expect(await mails()).toBe(before + 1);
    const [mail] = await readOutbox(h.deps.db, { to: email, limit: 1 });
    expect(mail?.text).toContain("http://localhost:9999/d/tgd_");
    expect((await history()).at(-1)).toEqual({
      change: "reopened",
      by: "cli",
      reason: "for 7 days",
    });

    const again = await run(["reopen", orderId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("This order's access has not ended");
    expect(await mails()).toBe(before + 1);
  });

  it("token --after-first-use makes a link that ends 72h after its first download; a bad one is refused", async () => {
    const made = await run(["token", email, slug, "--expires", "30d", "--after-first-use", "72h"]);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^http:\/\/localhost:9999\/d\/tgd_/);
    expect(made.stdout).toContain("or 72h after its first download if that comes first");
    const stored = await h.deps.db
      .selectFrom("delivery_tokens")
      .select(["expires_after_first_use", "first_used_at"])
      .orderBy("created_at", "desc")
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ expires_after_first_use: 72 * 3600, first_used_at: null });
    const bad = await run(["token", email, slug, "--after-first-use", "soon"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      "Error: expiresAfterFirstUse must be a duration like 90m, 72h or 7d",
    );
  });
});
