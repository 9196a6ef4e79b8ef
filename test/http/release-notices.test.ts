import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NOTICE_LEASE_MS,
  sendDueNotices,
  sendQueuedNotices,
} from "../../src/core/releases/sendNotices.ts";
import { unsubscribeToken } from "../../src/core/releases/unsubscribe.ts";
import { renderMail } from "../../src/mail/index.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

/** Update mails of releases (issue 17 step 5, decision 0018): sent, resumable, unsubscribable. */
describe.each(dialects)("release update mails on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  const publish = async (slug: string, json: unknown) => {
    const res = await h.admin(`/api/admin/products/${slug}/releases`, { method: "POST", json });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; notices: { total: number } | null };
  };
  const outbox = async (to: string) =>
    (
      (await (await h.admin(`/api/admin/outbox?to=${encodeURIComponent(to)}`)).json()) as {
        messages: { to: string; subject: string; text: string; html: string }[];
      }
    ).messages;
  const notices = (releaseId: string) =>
    h.deps.db
      .selectFrom("release_notices")
      .select(["email", "status", "attempts"])
      .where("release_id", "=", releaseId)
      .orderBy("email")
      .execute();

  it("mails each buyer with access once, none to a revoked one or an unsubscribed address", async () => {
    const product = await h.createProduct({ name: "Kit" });
    await h.upload(product.slug, "kit.zip", "kit 1");
    await h.upload(product.slug, "old.txt", "old");
    await publish(product.slug, { version: "1.1" });
    await h.upload(product.slug, "kit.zip", "kit 2");
    await h.upload(product.slug, "extra.md", "new");
    await h.grant("ann@example.com", product.slug);
    await h.grant("Ann@Example.com", product.slug);
    await h.grant("bob@example.com", product.slug);
    await h.grant("off@example.com", product.slug);
    const gone = await h.grant("gone@example.com", product.slug);
    await h.admin(`/api/admin/entitlements/${gone.id}/revoke`, { method: "POST", json: {} });
    const token = await unsubscribeToken(h.ctx, "off@example.com");
    const off = await h.request(`/unsubscribe?token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(off.status).toBe(200);

    const release = await publish(product.slug, {
      version: "1.2",
      notes: "Faster *kit*.",
      notify: true,
    });
    expect(release.notices?.total).toBe(2);
    await h.runtime.noticesSettled();

    for (const email of ["ann@example.com", "bob@example.com"]) {
      const mails = (await outbox(email)).filter((m) => m.subject === "Kit 1.2 is out");
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      expect(mail?.text).toContain("kit.zip (changed)");
      expect(mail?.text).toContain("extra.md (added)");
      expect(mail?.text).toContain("Faster *kit*.");
      expect(mail?.text).toContain(`${h.config.publicUrl}/library`);
      expect(mail?.text).toContain(`${h.config.publicUrl}/unsubscribe?token=`);
      // A fresh download link that works.
      const link = mail?.text.match(/https?:\/\/\S+\/d\/tgd_[A-Za-z0-9_-]+/)?.[0];
      expect(link).toBeTruthy();
      const download = await h.request(new URL(link as string).pathname);
      expect(download.status).toBeLessThan(400);
    }
    expect(await outbox("gone@example.com")).toEqual([]);
    expect(await outbox("off@example.com")).toEqual([]);
    expect(await notices(release.id)).toEqual([
      { email: "ann@example.com", status: "sent", attempts: 1 },
      { email: "bob@example.com", status: "sent", attempts: 1 },
    ]);
    // Nothing is sent again by a later pass.
    await sendDueNotices({ ctx: h.ctx });
    expect(
      (await outbox("ann@example.com")).filter((m) => m.subject === "Kit 1.2 is out"),
    ).toHaveLength(1);
    const page = await (await h.admin(`/admin/products/${product.slug}/releases`)).text();
    expect(page).toContain("2 of 2 sent");
  });

  it("leaves the batch of a sender that died to the next after its lease, with nobody mailed twice", async () => {
    const product = await h.createProduct({ name: "Brushes" });
    await h.upload(product.slug, "brushes.abr", "b");
    const release = await publish(product.slug, { version: "2.0" });
    const now = h.clock.now();
    const emails = ["a1@example.com", "a2@example.com", "a3@example.com"];
    for (const email of emails) await h.grant(email, product.slug);
    // A sender claimed them (its lease, one try counted) and died before mailing or settling.
    await h.deps.db
      .insertInto("release_notices")
      .values(
        emails.map((email) => ({
          release_id: release.id,
          email,
          status: "queued" as const,
          due_at: now,
          lease_until: now + NOTICE_LEASE_MS,
          attempts: 1,
          last_error: null,
          sent_at: null,
          created_at: now,
        })),
      )
      .execute();
    // While the lease lasts, nobody else takes them.
    expect(await sendDueNotices({ ctx: h.ctx })).toBe(0);
    for (const email of emails) expect(await outbox(email)).toEqual([]);
    h.clock.advance(NOTICE_LEASE_MS + 1);
    // A batch takes no more than its size (Postgres once took every row for a limited subquery).
    expect(await sendQueuedNotices({ ctx: h.ctx, input: { limit: 2 } })).toEqual({
      claimed: 2,
      sent: 2,
    });
    expect(await sendDueNotices({ ctx: h.ctx })).toBe(1);
    expect(await sendDueNotices({ ctx: h.ctx })).toBe(0);
    for (const email of emails) {
      const mails = await outbox(email);
      expect(mails.map((m) => m.subject)).toEqual(["Brushes 2.0 is out"]);
    }
    expect((await notices(release.id)).map((n) => [n.status, n.attempts])).toEqual([
      ["sent", 2],
      ["sent", 2],
      ["sent", 2],
    ]);
  });

  it("unsubscribes with one POST; a GET only shows the button; a bad token gets one answer", async () => {
    const product = await h.createProduct({ name: "Fonts" });
    await h.upload(product.slug, "font.otf", "f");
    await h.grant("reader@example.com", product.slug);
    const release = await publish(product.slug, { version: "1.0" });
    const now = h.clock.now();
    // Queued (held by nobody) when the reader unsubscribes: skipped, never mailed.
    await h.deps.db
      .insertInto("release_notices")
      .values({
        release_id: release.id,
        email: "reader@example.com",
        status: "queued",
        due_at: now + 3600_000,
        lease_until: null,
        attempts: 0,
        last_error: null,
        sent_at: null,
        created_at: now,
      })
      .execute();
    const token = await unsubscribeToken(h.ctx, "reader@example.com");
    const unsubscribed = () =>
      h.deps.db
        .selectFrom("mail_unsubscribes")
        .select("email")
        .where("email", "=", "reader@example.com")
        .execute();

    const page = await h.request(`/unsubscribe?token=${token}`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain("reader@example.com");
    expect(body).toMatch(/<form method="post" action="\/unsubscribe\?token=[^"]+"/);
    expect(await unsubscribed()).toEqual([]);

    const bad = [`${token}x`, `${token.split(".")[0]}.AAAA`, "nonsense", ""];
    const answers = await Promise.all(
      bad.map(async (t) => {
        const res = await h.request(`/unsubscribe?token=${t}`, { method: "POST" });
        return `${res.status} ${(await res.text()).replace(/"requestId":"[^"]*"/, "")}`;
      }),
    );
    expect(answers[0]).toMatch(/^400 /);
    expect(answers).toEqual(bad.map(() => answers[0]));
    const badGet = await h.request(`/unsubscribe?token=${bad[1]}`);
    expect(badGet.status).toBe(400);
    expect(await unsubscribed()).toEqual([]);

    const post = await h.request(`/unsubscribe?token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain("You are unsubscribed");
    expect(await unsubscribed()).toEqual([{ email: "reader@example.com" }]);
    // Twice is fine.
    expect((await h.request(`/unsubscribe?token=${token}`, { method: "POST" })).status).toBe(200);
    expect((await notices(release.id)).map((n) => n.status)).toEqual(["skipped"]);
    h.clock.advance(3600_001);
    await sendDueNotices({ ctx: h.ctx });
    expect(await outbox("reader@example.com")).toEqual([]);
  });

  it("skips at sending time an address that unsubscribed after its notice was queued", async () => {
    const product = await h.createProduct({ name: "Sounds" });
    await h.upload(product.slug, "s.wav", "s");
    await h.grant("late@example.com", product.slug);
    const release = await publish(product.slug, { version: "1.0" });
    const now = h.clock.now();
    await h.deps.db
      .insertInto("release_notices")
      .values({
        release_id: release.id,
        email: "late@example.com",
        status: "queued",
        due_at: now,
        lease_until: null,
        attempts: 0,
        last_error: null,
        sent_at: null,
        created_at: now,
      })
      .execute();
    await h.deps.db
      .insertInto("mail_unsubscribes")
      .values({ email: "late@example.com", created_at: now })
      .execute();
    await sendDueNotices({ ctx: h.ctx });
    expect(await outbox("late@example.com")).toEqual([]);
    expect((await notices(release.id)).map((n) => n.status)).toEqual(["skipped"]);
  });

  it("renders the update mail with the one-click unsubscribe headers", () => {
    const url = "https://shop.test/unsubscribe?token=abc.def";
    const message = renderMail(
      {
        kind: "release",
        to: "x@example.com",
        productName: "Kit",
        version: "1.2",
        notes: "<b>bold</b>",
        changes: { added: ["a.txt"], changed: [], removed: ["b.txt"] },
        link: { url: "https://shop.test/d/tgd_x", expiresAt: Date.now() + 3600_000, maxUses: null },
        unsubscribeUrl: url,
      },
      {
        shopName: "Shop",
        publicUrl: "https://shop.test",
        supportEmail: null,
        logo: null,
        timeZone: "UTC",
      } as never,
    );
    expect(message.subject).toBe("Kit 1.2 is out");
    expect(message.headers).toEqual({
      "List-Unsubscribe": `<${url}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    });
    expect(message.html).toContain("&#60;b&#62;bold&#60;/b&#62;");
    expect(message.html).not.toContain("<b>bold");
    expect(message.text).toContain("b.txt (removed)");
  });
});
