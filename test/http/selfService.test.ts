import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const form = {
  "content-type": "application/x-www-form-urlencoded",
  origin: PUBLIC_URL,
  accept: "text/html",
};
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, " ");

/** From the library: the receipt again and a fresh link, to the buyer's own address only. */
describe.each(dialects)("buyer self-service in the library, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
  });
  afterAll(async () => h.close());

  async function buy(email: string) {
    const product = await h.createProduct({ name: "Self Kit" });
    const asset = await h.upload(product.slug, "kit.zip", "kit bytes for self-service");
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const { url, orderId } = (await res.json()) as { url: string; orderId: string };
    expect((await payOnHostedPage(url, { email })).status).toBe(303);
    await waitFor(async () => {
      const row = await h.deps.db
        .selectFrom("orders")
        .select("receipt_delivered_at")
        .where("id", "=", orderId)
        .executeTakeFirstOrThrow();
      return row.receipt_delivered_at !== null;
    }, "the receipt");
    return { product, asset, orderId };
  }
  const mails = (to: string) => readOutbox(h.deps.db, { to, limit: 50 });

  it("resends the receipt with each file's size and SHA-256, only to the signed-in buyer, within a limit", async () => {
    const { product, asset, orderId } = await buy("self@example.com");
    const other = await buy("someone@example.com");
    const cookie = await h.signIn("self@example.com");

    const library = textOf(
      await (await h.request("/library", { cookie, headers: { accept: "text/html" } })).text(),
    );
    expect(library).toContain("Resend my receipt");
    expect(library).toContain("Send me a fresh link");
    expect(library).toContain(asset.sha256);

    const before = (await mails("self@example.com")).length;
    const resent = await h.request(`/library/orders/${orderId}/resend-receipt`, {
      method: "POST",
      cookie,
      headers: form,
    });
    expect(resent.status).toBe(303);
    expect(resent.headers.get("location")).toBe("/library?sent=receipt");
    const [receipt] = await mails("self@example.com");
    expect((await mails("self@example.com")).length).toBe(before + 1);
    expect(receipt?.subject).toBe(`Your purchase: ${product.name}`);
    expect(receipt?.text).toContain(`SHA-256: ${asset.sha256}`);
    expect(receipt?.html).toContain(asset.sha256);
    const confirmed = textOf(
      await (
        await h.request("/library?sent=receipt", { cookie, headers: { accept: "text/html" } })
      ).text(),
    );
    expect(confirmed).toContain("We sent your receipt again to self@example.com.");

    // Someone else's order: refused, and nothing goes to anyone.
    const othersBefore = (await mails("someone@example.com")).length;
    const refused = await h.request(`/library/orders/${other.orderId}/resend-receipt`, {
      method: "POST",
      cookie,
      headers: { origin: PUBLIC_URL },
    });
    expect(refused.status).toBe(404);
    expect((await mails("someone@example.com")).length).toBe(othersBefore);

    // Not signed in: 401. Past the limit (5 an hour, the refused one counted): 429.
    const anonymous = await h.request(`/library/orders/${orderId}/resend-receipt`, {
      method: "POST",
      headers: { origin: PUBLIC_URL },
    });
    expect(anonymous.status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (
          await h.request(`/library/orders/${orderId}/resend-receipt`, {
            method: "POST",
            cookie,
            headers: { origin: PUBLIC_URL },
          })
        ).status,
      );
    expect(statuses).toEqual([200, 200, 200, 429]);
  }, 60_000);

  it("mails a fresh link to the buyer's own address, and refuses a product they do not own", async () => {
    const { product } = await buy("link@example.com");
    const stranger = await h.createProduct({ name: "Not Theirs" });
    const cookie = await h.signIn("link@example.com");
    const sent = await h.request(`/library/${product.slug}/fresh-link`, {
      method: "POST",
      cookie,
      headers: form,
    });
    expect(sent.status).toBe(303);
    const [mail] = await mails("link@example.com");
    expect(mail?.subject).toBe(`Your fresh download link for ${product.name}`);
    const link = /http:\/\/shop\.test\/d\/tgd_[\w-]+/.exec(mail?.text ?? "")?.[0];
    expect(link).toBeDefined();
    expect((await h.request(link as string)).status).toBe(200);

    const notOwned = await h.request(`/library/${stranger.slug}/fresh-link`, {
      method: "POST",
      cookie,
      headers: { origin: PUBLIC_URL },
    });
    expect(notOwned.status).toBe(403);
    const crossSite = await h.request(`/library/${product.slug}/fresh-link`, {
      method: "POST",
      cookie,
      headers: { origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
  }, 60_000);
});
