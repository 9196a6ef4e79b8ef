import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshLinkEmail } from "../../src/core/delivery/freshLink.ts";
import { signInEmail } from "../../src/core/identity/emails.ts";
import { receiptEmail } from "../../src/core/orders/receipts.ts";
import type { MailMessage } from "../../src/core/ports.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const NASTY = `<script>alert("x")</script> & Friends' "Kit"`;
const NASTY_ESCAPED =
  "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; Friends&#39; &#34;Kit&#34;";
const NASTY_FILE = "<img src=x onerror=alert(1)>.zip";

/** Every link target in an HTML part, with the escaping of attribute values undone. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) =>
    (m[1] as string).replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code))),
  );
}

/** What every mail of the shop must be: a finished HTML part and a plain-text part, same links. */
function expectWellFormed(mail: MailMessage, links: string[]) {
  expect(mail.html).toMatch(/^<!doctype html>/);
  expect(mail.html).toContain('role="presentation"');
  expect(mail.html).not.toMatch(/<script|<style|class="/i);
  // A hidden preheader comes first in the body, so inboxes show it after the subject.
  expect(mail.html).toMatch(/<body[^>]*>\s*<div style="display:none/);
  expect(mail.html).toContain("You got this email because");
  expect(mail.text).toContain("You got this email because");
  for (const link of links) {
    expect(mail.text).toContain(link);
    expect(hrefs(mail.html)).toContain(link);
    // The button's link is also written out, for clients that block buttons.
    expect(mail.html).toContain(`>${link.replaceAll("&", "&#38;")}</a>`);
  }
  for (const part of [mail.text, mail.html]) {
    expect(part).not.toMatch(/\/files\/|[?&]sig=|X-Amz-|r2\.cloudflarestorage/);
  }
}

describe("the shop's emails as parts", () => {
  const link = {
    url: "http://shop.test/d/tgd_abc",
    expiresAt: Date.UTC(2030, 0, 2, 10, 0),
    maxUses: 5,
  };

  it("the receipt escapes names in HTML and shows product, amount, reference, files and expiry", () => {
    const mail = receiptEmail({
      shopName: "Ada's <b>Shop</b>",
      to: "buyer@example.com",
      productName: NASTY,
      orderRef: "ord_123",
      amount: 1999,
      currency: "eur",
      files: [
        { filename: NASTY_FILE, size: 2048 },
        { filename: "notes.txt", size: 12 },
      ],
      libraryUrl: "http://shop.test/library",
      link,
    });
    expect(mail.subject).toBe(`Your purchase: ${NASTY}`);
    expectWellFormed(mail, [link.url]);
    expect(hrefs(mail.html).sort()).toEqual(
      [link.url, link.url, "http://shop.test/library"].sort(),
    );
    expect(mail.html).not.toMatch(/<script|<img|<b>Shop/);
    expect(mail.html).toContain(NASTY_ESCAPED);
    expect(mail.html).toContain("Ada&#39;s &#60;b&#62;Shop&#60;/b&#62;");
    expect(mail.html).toContain("&#60;img src=x onerror=alert(1)&#62;.zip");
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("€19.99");
      expect(part).toContain("ord_123");
      expect(part).toContain("2.0 KB");
      expect(part).toContain("12 B");
      expect(part).toContain("until 2030-01-02 10:00 UTC for up to 5 downloads");
      expect(part).toContain("http://shop.test/library");
    }
    expect(mail.text).toContain(NASTY);
    expect(mail.text).toContain(NASTY_FILE);
    expect(mail.html).toMatch(/display:none[^>]*>Payment received: €19\.99 for &#60;script/);
  });

  it("a receipt for a product without files yet says so instead of an empty list", () => {
    const mail = receiptEmail({
      shopName: "Shop",
      to: "buyer@example.com",
      productName: "Kit",
      orderRef: "ord_1",
      amount: 500,
      currency: "jpy",
      files: [],
      libraryUrl: "http://shop.test/library",
      link: { ...link, maxUses: null },
    });
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("still preparing the files");
      expect(part).toContain("¥500");
      expect(part).not.toContain("What is in it");
      expect(part).not.toContain("downloads");
    }
  });

  it("the sign-in mail carries the link and the code in both parts", () => {
    const url = "http://shop.test/auth/callback?token=tgl_abc&x=1";
    const mail = signInEmail({
      shopName: NASTY,
      to: "a@example.com",
      url,
      code: "012345",
      minutes: 15,
    });
    expect(mail.subject).toBe(`Your sign-in link for ${NASTY}`);
    expectWellFormed(mail, [url]);
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain(NASTY_ESCAPED);
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("012345");
      expect(part).toContain("expire in 15 minutes");
    }
  });

  it("the fresh-link mail carries the new link in both parts and escapes the product", () => {
    const mail = freshLinkEmail({
      shopName: "Shop",
      to: "a@example.com",
      productName: NASTY,
      link: { ...link, maxUses: 1 },
      libraryUrl: "http://shop.test/library",
    });
    expectWellFormed(mail, [link.url]);
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain(NASTY_ESCAPED);
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("until 2030-01-02 10:00 UTC for up to 1 download");
      expect(part).not.toContain("1 downloads");
    }
  });
});

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
      expect(part).toContain(orderId);
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
