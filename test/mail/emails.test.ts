import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderReference } from "../../src/core/orders/reference.ts";
import type { MailMessage } from "../../src/core/ports.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";
import { expectWellFormed, hrefs, NASTY, NASTY_ESCAPED, NASTY_FILE } from "./parts.ts";

describe.each(dialects)("the emails a real purchase sends on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
  });
  afterAll(() => h.close());

  const mailsTo = async (email: string) =>
    (await (await h.admin(`/api/admin/outbox?to=${encodeURIComponent(email)}`)).json())
      .messages as MailMessage[];

  it("the receipt of a paid order shows what was bought, and its button downloads the file", async () => {
    const product = await h.createProduct({
      name: NASTY,
      price: { amount: 2500, currency: "usd" },
    });
    const content = "receipt bytes ".repeat(100);
    await h.upload(product.slug, NASTY_FILE, content);
    const started = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    expect(started.status).toBe(201);
    const { url, orderId } = (await started.json()) as { url: string; orderId: string };
    expect((await payOnHostedPage(url, { email: "Receipt@Example.com" })).status).toBe(303);

    const [mail] = await waitFor(async () => {
      const messages = await mailsTo("receipt@example.com");
      return messages.length ? messages : null;
    }, "the receipt");
    if (!mail) throw new Error("no receipt");
    expect(mail.subject).toBe(`Your purchase: ${NASTY}`);
    const tokenLink = /http:\/\/shop\.test\/d\/tgd_[\w-]{43}/.exec(mail.text)?.[0] as string;
    expect(tokenLink).toBeDefined();
    expectWellFormed(mail, [tokenLink]);
    expect(hrefs(mail.html)).toContain("http://shop.test/library");
    expect(mail.html).not.toMatch(/<script|<img/);
    expect(mail.html).toContain(NASTY_ESCAPED);
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("$25.00");
      expect(part).toContain(orderReference(orderId));
      expect(part).toContain("1.4 KB");
    }

    const page = await h.request(tokenLink, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const assetPath = /\/d\/tgd_[\w-]{43}\/ast_[\w-]+/.exec(await page.text())?.[0] as string;
    const download = await h.request(assetPath);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(content);
  });

  it("the sign-in mail sent through the app has the same link in both parts", async () => {
    const asked = await h.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "signin-mail@example.com" }),
    });
    expect(asked.status).toBe(202);
    const [mail] = await mailsTo("signin-mail@example.com");
    if (!mail) throw new Error("no sign-in mail");
    const link = /http:\/\/shop\.test\/auth\/callback\?token=[\w-]+/.exec(mail.text)?.[0] as string;
    expectWellFormed(mail, [link]);
    const code = /code on the sign-in page: (\d{6})/.exec(mail.text)?.[1] as string;
    expect(mail.html).toContain(code);
  });
});
