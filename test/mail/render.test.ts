import { describe, expect, it } from "vitest";
import {
  isPermanentMailFailure,
  type Mail,
  MailFailure,
  type MailMessage,
} from "../../src/core/ports.ts";
import { renderingMailer, renderMail, type Shop } from "../../src/mail/index.ts";
import { expectWellFormed, hrefs, NASTY, NASTY_ESCAPED, NASTY_FILE } from "./parts.ts";

const shop: Shop = {
  shopName: "Kit Shop",
  publicUrl: "http://shop.test",
  supportEmail: null,
  timeZone: "UTC",
  logo: null,
};
const link = {
  url: "http://shop.test/d/tgd_abc",
  expiresAt: Date.UTC(2030, 0, 2, 10, 0),
  maxUses: 5,
};
const signIn: Mail = {
  kind: "sign-in",
  to: "a@example.com",
  url: "http://shop.test/auth/callback?token=tgl_abc&x=1",
  code: "012345",
  minutes: 15,
};
const receipt: Mail = {
  kind: "receipt",
  to: "buyer@example.com",
  productName: "Icons",
  orderRef: "ord_123",
  amount: 1999,
  currency: "eur",
  files: [
    { filename: "icons.zip", size: 2048 },
    { filename: "notes.txt", size: 12 },
  ],
  link,
};
const freshLink: Mail = {
  kind: "fresh-link",
  to: "c@example.com",
  productName: "Icons",
  link: { ...link, maxUses: 1 },
};

/** The visible text of an HTML part, tags dropped and entities undone, spaces folded. */
function visible(html: string): string {
  return html
    .replace(/<div style="display:none[\s\S]*?<\/div>/, "")
    .replace(/<title>[\s\S]*?<\/title>/, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, " ")
    .trim();
}

const preheader = (html: string) =>
  /<div style="display:none[^>]*>([^&]*)/.exec(html)?.[1] as string;

describe("the shop's mails, rendered (src/mail)", () => {
  it("the sign-in mail: subject, the text part word for word, and the HTML with button and code", () => {
    const mail = renderMail(signIn, shop);
    expect(mail.to).toBe("a@example.com");
    expect(mail.subject).toBe("Your sign-in link for Kit Shop");
    expect(mail.text).toBe(
      [
        "Sign in to Kit Shop by opening this link:",
        "",
        "http://shop.test/auth/callback?token=tgl_abc&x=1",
        "",
        "Or enter this code on the sign-in page: 012345",
        "",
        "The link and the code work once and expire in 15 minutes.",
        "If you did not ask to sign in, you can ignore this email.",
        "",
        "--",
        "You got this email because someone asked to sign in to Kit Shop with a@example.com. If that was not you, ignore it: nothing happens until the link is used.",
      ].join("\n"),
    );
    expectWellFormed(mail, ["http://shop.test/auth/callback?token=tgl_abc&x=1"]);
    expect(mail.html).toContain("<title>Sign in</title>");
    expect(preheader(mail.html)).toBe(
      "Your sign-in code is 012345. The link and code expire in 15 minutes.",
    );
    expect(mail.html).toContain(
      '<strong style="font-size:20px;letter-spacing:3px">012345</strong>',
    );
    expect(visible(mail.html)).toBe(
      "Kit Shop Sign in Click the button to sign in and see your purchases. Or enter this code on the sign-in page: 012345 Sign in Button not working? Copy this link into your browser: http://shop.test/auth/callback?token=tgl_abc&x=1 The link and the code work once and expire in 15 minutes. You got this email because someone asked to sign in to Kit Shop with a@example.com. If that was not you, ignore it: nothing happens until the link is used.",
    );
  });

  it("the receipt: the text part word for word, and the HTML with order and file tables", () => {
    const mail = renderMail(receipt, shop);
    expect(mail.subject).toBe("Your purchase: Icons");
    expect(mail.text).toBe(
      [
        "Thank you for buying Icons from Kit Shop.",
        "",
        "Product:         Icons",
        "Amount paid:     €19.99",
        "Order reference: ord_123",
        "",
        "What is in it:",
        "  - icons.zip (2.0 KB)",
        "  - notes.txt (12 B)",
        "",
        "Download your files (this link works until 2030-01-02 10:00 UTC for up to 5 downloads):",
        "http://shop.test/d/tgd_abc",
        "",
        "Your files are always in your library. Sign in with buyer@example.com at:",
        "http://shop.test/library",
        "",
        "Keep this email private: the download link works for anyone who has it.",
        "",
        "--",
        "You got this email because you bought Icons from Kit Shop with buyer@example.com.",
      ].join("\n"),
    );
    expectWellFormed(mail, [link.url]);
    expect(hrefs(mail.html).sort()).toEqual(
      [link.url, link.url, "http://shop.test/library"].sort(),
    );
    expect(preheader(mail.html)).toBe(
      "Payment received: €19.99 for Icons. Your files are ready to download.",
    );
    expect(visible(mail.html)).toBe(
      "Kit Shop Thank you for buying Icons Your payment is confirmed and your files are ready. The download button works until 2030-01-02 10:00 UTC for up to 5 downloads. Download your files Button not working? Copy this link into your browser: http://shop.test/d/tgd_abc Your order Product Icons Amount paid €19.99 Order reference ord_123 What is in it icons.zip 2.0 KB notes.txt 12 B Your files are always in your library : sign in with buyer@example.com . Keep this email private: the download link works for anyone who has it. You got this email because you bought Icons from Kit Shop with buyer@example.com.",
    );
    // File sizes stay on one line; long file names wrap.
    expect(mail.html).toMatch(/white-space:nowrap;padding-left:12px">2\.0 KB<\/td>/);
    expect(mail.html).toMatch(/word-break:break-word">icons\.zip<\/td>/);
  });

  it("the fresh-link mail: the text part word for word, and the HTML with the new link", () => {
    const mail = renderMail(freshLink, shop);
    expect(mail.subject).toBe("Your fresh download link for Icons");
    expect(mail.text).toBe(
      [
        "Here is a fresh link to download Icons from Kit Shop.",
        "",
        "Download your files (this link works until 2030-01-02 10:00 UTC for up to 1 download):",
        "http://shop.test/d/tgd_abc",
        "",
        "Your files are always in your library. Sign in with c@example.com at:",
        "http://shop.test/library",
        "",
        "Keep this email private: the download link works for anyone who has it.",
        "",
        "--",
        "You got this email because someone asked for a fresh download link for Icons at Kit Shop with c@example.com. If that was not you, you can ignore it: the link only ever comes to this address.",
      ].join("\n"),
    );
    expectWellFormed(mail, [link.url]);
    expect(hrefs(mail.html).sort()).toEqual(
      [link.url, link.url, "http://shop.test/library"].sort(),
    );
    expect(preheader(mail.html)).toBe(
      "Your new download link for Icons works until 2030-01-02 10:00 UTC for up to 1 download.",
    );
    expect(visible(mail.html)).toBe(
      "Kit Shop Your fresh download link You asked for a new link to download Icons. It works until 2030-01-02 10:00 UTC for up to 1 download. Download your files Button not working? Copy this link into your browser: http://shop.test/d/tgd_abc Your files are always in your library : sign in with c@example.com . Keep this email private: the download link works for anyone who has it. You got this email because someone asked for a fresh download link for Icons at Kit Shop with c@example.com. If that was not you, you can ignore it: the link only ever comes to this address.",
    );
  });

  it("every kind has the one layout: the same page around its own title and body", () => {
    const frame = (html: string) =>
      html
        .replace(/<title>[^<]*<\/title>/, "<title/>")
        .replace(/(<div style="display:none[^>]*>)[^&]*/, "$1")
        .replace(/(<h1[^>]*>)[\s\S]*(<\/td><\/tr>\n<tr><td style="padding:16px)/, "$1$2")
        .replace(/(font-size:12px;line-height:18px;color:#5b6570">)[^<]*/, "$1");
    const frames = [signIn, receipt, freshLink].map((mail) => frame(renderMail(mail, shop).html));
    expect(frames[0]).toContain("<h1");
    expect(new Set(frames).size).toBe(1);
  });

  it("the receipt escapes names in HTML and keeps them as typed in the text part", () => {
    const mail = renderMail(
      {
        ...receipt,
        productName: NASTY,
        files: [
          { filename: NASTY_FILE, size: 2048 },
          { filename: "notes.txt", size: 12 },
        ],
      },
      { ...shop, shopName: "Ada's <b>Shop</b>" },
    );
    expect(mail.subject).toBe(`Your purchase: ${NASTY}`);
    expectWellFormed(mail, [link.url]);
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
    expect(mail.text).toContain("Ada's <b>Shop</b>");
    expect(mail.html).toMatch(/display:none[^>]*>Payment received: €19\.99 for &#60;script/);
    expect(mail.html).toContain(`<title>Thank you for buying ${NASTY_ESCAPED}</title>`);
  });

  it("a receipt for a product without files yet says so instead of an empty list", () => {
    const mail = renderMail(
      { ...receipt, amount: 500, currency: "jpy", files: [], link: { ...link, maxUses: null } },
      shop,
    );
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("still preparing the files");
      expect(part).toContain("¥500");
      expect(part).not.toContain("What is in it");
      expect(part).not.toContain("downloads");
    }
  });

  it("a receipt with a licence key shows it in both parts, with where to free its machines", () => {
    const key = "ABCDE-FGHJK-MNPQR-STVWX-YZ012";
    const mail = renderMail({ ...receipt, licenseKey: key }, shop);
    const text = mail.text.split("\n");
    const at = text.indexOf(`Your licence key: ${key}`);
    // After the order, before the files, and said once.
    expect(at).toBeGreaterThan(text.indexOf("Order reference: ord_123"));
    expect(at).toBeLessThan(text.indexOf("What is in it:"));
    expect(text[at + 1]).toBe(
      "See or free the machines it is activated on in your library: http://shop.test/library",
    );
    expect(mail.text.split(key)).toHaveLength(2);
    expect(mail.text).toContain("the download link and the licence key work for anyone");
    expectWellFormed(mail, [link.url]);
    expect(visible(mail.html)).toContain(
      `Your licence key ${key} See or free the machines it is activated on in your library . Your order`,
    );
    expect(mail.html).toMatch(new RegExp(`font-family:ui-monospace[^>]*>${key}</p>`));
    expect(hrefs(mail.html).filter((h) => h === "http://shop.test/library")).toHaveLength(2);
    // No key (a product without licences, or null): the receipt is as before.
    for (const licenseKey of [undefined, null]) {
      const plain = renderMail({ ...receipt, licenseKey }, shop);
      expect(plain).toEqual(renderMail(receipt, shop));
      expect(plain.text).not.toContain("licence");
    }
  });

  it("a receipt with a discount and tax itemises them in both parts, with the buyer's tax ID", () => {
    const mail = renderMail(
      {
        ...receipt,
        amount: 2900,
        charges: { subtotal: 2900, discount: 1160, tax: 551, total: 2291 },
        country: "DE",
        taxIds: [{ type: "eu_vat", value: "DE123456789" }],
      },
      shop,
    );
    const lines = mail.text.split("\n");
    const at = lines.indexOf("Product:         Icons");
    expect(lines.slice(at, at + 7)).toEqual([
      "Product:         Icons",
      "Subtotal:        €29.00",
      "Discount:        \u2212€11.60",
      "Tax (VAT):       €5.51",
      "Total paid:      €22.91",
      "Your tax ID:     DE123456789 (EU VAT)",
      "Order reference: ord_123",
    ]);
    expect(mail.text).not.toContain("Amount paid");
    expectWellFormed(mail, [link.url]);
    expect(visible(mail.html)).toContain(
      "Your order Product Icons Subtotal €29.00 Discount \u2212€11.60 Tax (VAT) €5.51 Total paid €22.91 Your tax ID DE123456789 (EU VAT) Order reference ord_123",
    );
    expect(mail.html).toContain("Payment received: €22.91 for Icons.");
  });

  it("a receipt with only a discount, or only tax, says just that; none is as before", () => {
    const discounted = renderMail(
      { ...receipt, charges: { subtotal: 1999, discount: 500, tax: 0, total: 1499 } },
      shop,
    );
    expect(discounted.text).toContain("Discount:        \u2212€5.00\nTotal paid:      €14.99");
    expect(discounted.text).not.toContain("Tax");
    const taxed = renderMail(
      {
        ...receipt,
        charges: { subtotal: 1999, discount: 0, tax: 200, total: 2199 },
        country: "US",
      },
      shop,
    );
    expect(taxed.text).toContain(
      "Subtotal:        €19.99\nTax:             €2.00\nTotal paid:      €21.99",
    );
    expect(taxed.text).not.toContain("Discount");
    for (const none of [{ charges: null }, { charges: undefined, taxIds: [] }]) {
      expect(renderMail({ ...receipt, ...none }, shop)).toEqual(renderMail(receipt, shop));
    }
  });

  it("the sign-in mail escapes the shop's name and carries the link and the code in both parts", () => {
    const mail = renderMail(signIn, { ...shop, shopName: NASTY });
    expect(mail.subject).toBe(`Your sign-in link for ${NASTY}`);
    expectWellFormed(mail, [(signIn as { url: string }).url]);
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain(NASTY_ESCAPED);
    // The link's & is escaped in the attribute and in the written-out link.
    expect(mail.html).toContain('href="http://shop.test/auth/callback?token=tgl_abc&#38;x=1"');
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("012345");
      expect(part).toContain("expire in 15 minutes");
    }
  });

  it("the fresh-link mail escapes the product and the address, and says 1 download", () => {
    const mail = renderMail(
      { ...freshLink, productName: NASTY, to: `o'hara+<x>@example.com` },
      shop,
    );
    expectWellFormed(mail, [link.url]);
    expect(mail.html).not.toMatch(/<script|<x>/);
    expect(mail.html).toContain(NASTY_ESCAPED);
    expect(mail.html).toContain("<strong>o&#39;hara+&#60;x&#62;@example.com</strong>");
    expect(mail.text).toContain("Sign in with o'hara+<x>@example.com at:");
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain("until 2030-01-02 10:00 UTC for up to 1 download");
      expect(part).not.toContain("1 downloads");
    }
  });

  it("the webhook-disabled mail tells the admins which endpoint, since when, why, and links its page", () => {
    const mail = renderMail(
      {
        kind: "webhook-disabled",
        to: "owner@example.com",
        url: `https://hooks.example.com/${NASTY}`,
        failingSince: Date.UTC(2030, 0, 2, 10, 0),
        lastError: "The endpoint answered 503.",
        pageUrl: "http://shop.test/admin/webhooks/endpoints/we_abc",
      },
      shop,
    );
    expect(mail.subject).toBe(`Webhook endpoint disabled: https://hooks.example.com/${NASTY}`);
    expect(mail.text).toContain("Failing since: 2030-01-02 10:00 UTC");
    expect(mail.text).toContain("Last error:    The endpoint answered 503.");
    expect(mail.text).toContain("The endpoint: http://shop.test/admin/webhooks/endpoints/we_abc");
    expect(mail.html).toContain(NASTY_ESCAPED);
    expect(mail.html).not.toContain(NASTY);
    expectWellFormed(mail, ["http://shop.test/admin/webhooks/endpoints/we_abc"]);
  });

  it("the seller alert tells the admins what happened, the facts, and links the page to look at", () => {
    const mail = renderMail(
      {
        kind: "seller-alert",
        to: "owner@example.com",
        title: "A receipt was not sent",
        lead: `The receipt of order ord_123 for ${NASTY} has not gone out for 10 minutes.`,
        rows: [
          ["Order", "ord_123"],
          ["Buyer", "buyer@example.com"],
          ["Last error", "SMTP server not reachable"],
        ],
        pageUrl: "http://shop.test/admin/orders/ord_123",
      },
      shop,
    );
    expect(mail.to).toBe("owner@example.com");
    expect(mail.subject).toBe("Kit Shop: A receipt was not sent");
    expect(mail.text).toContain("Order:      ord_123\nBuyer:      buyer@example.com\n");
    expect(mail.text).toContain("Last error: SMTP server not reachable");
    expect(mail.text).toContain("Open it: http://shop.test/admin/orders/ord_123");
    expect(visible(mail.html)).toContain("A receipt was not sent");
    expect(visible(mail.html)).toContain("Last error SMTP server not reachable");
    expect(mail.html).toContain(NASTY_ESCAPED);
    expect(mail.html).not.toContain(NASTY);
    expectWellFormed(mail, ["http://shop.test/admin/orders/ord_123"]);
  });

  it("the payment-failed mail says until when access lasts and links the invoice, else the library", () => {
    const failed: Mail = {
      kind: "payment-failed",
      to: "sub@example.com",
      productName: NASTY,
      orderRef: "ord_9",
      accessUntil: Date.UTC(2030, 0, 8, 12, 0),
      payUrl: "https://invoice.stripe.com/i/acct_1/in_1",
    };
    const mail = renderMail(failed, shop);
    expectWellFormed(mail, ["https://invoice.stripe.com/i/acct_1/in_1"]);
    expect(mail.subject).toBe(`Payment failed: ${NASTY}`);
    expect(mail.text).toContain("You keep your access until 2030-01-08 12:00 UTC.");
    expect(mail.text).toContain(
      "Pay the invoice with another card here:\nhttps://invoice.stripe.com/i/acct_1/in_1",
    );
    expect(mail.html).toContain(NASTY_ESCAPED);
    expect(mail.html).not.toContain(NASTY);
    expect(visible(mail.html)).toContain("Access until 2030-01-08 12:00 UTC");

    const noInvoice = renderMail({ ...failed, payUrl: null }, shop);
    expectWellFormed(noInvoice, ["http://shop.test/library"]);
    expect(noInvoice.text).not.toContain("invoice.stripe.com");
  });

  it("the download reminder says what was bought and when, carries the fresh link, and says it is the only one", () => {
    const mail = renderMail(
      {
        kind: "download-reminder",
        to: "buyer@example.com",
        productName: NASTY,
        orderRef: "ord_123",
        paidAt: Date.UTC(2030, 0, 1, 9, 30),
        link,
      },
      shop,
    );
    expect(mail.subject).toBe(`Your files for ${NASTY} are waiting`);
    expect(mail.text).toContain(
      `You bought ${NASTY} from Kit Shop on 2030-01-01 09:30 UTC, but have not downloaded it yet.`,
    );
    expect(mail.text).toContain(
      "Download your files (this link works until 2030-01-02 10:00 UTC for up to 5 downloads):\nhttp://shop.test/d/tgd_abc",
    );
    expect(mail.text).toContain("This is the only reminder we send.");
    expect(mail.text).toContain("(order ord_123)");
    expect(visible(mail.html)).toContain("Your files are waiting");
    expect(mail.html).toContain(NASTY_ESCAPED);
    expect(mail.html).not.toContain(NASTY);
    expect(hrefs(mail.html)).toContain("http://shop.test/library");
    expectWellFormed(mail, [link.url]);
  });

  it("the sharing confirmation says why, carries the one-time link, and what to do if it was not you", () => {
    const url = "http://shop.test/sharing/confirm?token=tgs_abc&next=%2Fd%2Ftgd_abc%2Fast_1";
    const mail = renderMail(
      { kind: "sharing-confirm", to: "buyer@example.com", productName: NASTY, url, hours: 24 },
      shop,
    );
    expect(mail.subject).toBe(`Confirm it's you to download ${NASTY}`);
    expect(mail.text).toContain(`\n${url}\n`);
    expect(mail.text).toContain("The link works once, for 24 hours.");
    expect(mail.text).toContain("more networks or devices than usual");
    expect(mail.text).toContain("If it was not you, do not open the link");
    expect(mail.html).toContain(NASTY_ESCAPED);
    expect(mail.html).not.toContain(NASTY);
    expectWellFormed(mail, [url]);
  });

  it("links to the library under the shop's public URL", () => {
    const mail = renderMail(receipt, { ...shop, publicUrl: "https://example.com/shop" });
    expect(hrefs(mail.html)).toContain("https://example.com/shop/library");
    expect(mail.text).toContain("\nhttps://example.com/shop/library\n");
  });
});

describe("the seller's shop profile in every mail", () => {
  const profiled: Shop = {
    ...shop,
    shopName: "Pixel Forge",
    supportEmail: "help@pixelforge.test",
    timeZone: "Europe/Berlin",
    logo: "a".repeat(64) + ".png",
  };
  const mails: Mail[] = [signIn, receipt];

  it("names the shop, shows its logo, and sends replies to its support address", () => {
    for (const mail of mails) {
      const message = renderMail(mail, profiled);
      expect(message.replyTo).toBe("help@pixelforge.test");
      expect(message.html).toContain("Pixel Forge");
      expect(message.html).toContain(`src="http://shop.test/images/${"a".repeat(64)}.png"`);
      expect(hrefs(message.html)).toContain("mailto:help@pixelforge.test");
      expect(message.text.trimEnd().split("\n").at(-1)).toBe(
        "Questions? Reply to this email or write to help@pixelforge.test.",
      );
    }
  });

  it("writes dates in the shop's time zone", () => {
    const message = renderMail(receipt, profiled);
    // 10:00 UTC is 11:00 in Berlin in January.
    expect(message.text).toContain("until 2030-01-02 11:00 GMT+1");
    expect(message.html).toContain("until 2030-01-02 11:00 GMT+1");
  });

  it("without a support address, says nothing of one and sets no Reply-To", () => {
    const message = renderMail(receipt, shop);
    expect(message.replyTo).toBeUndefined();
    expect(message.text).not.toContain("Questions?");
  });
});

describe("renderingMailer: the core's Mailer over a transport", () => {
  it("renders each mail for the shop as it is when it goes", async () => {
    const sent: MailMessage[] = [];
    let name = "Old Name";
    const mailer = renderingMailer(
      { send: async (message) => void sent.push(message) },
      async () => ({ ...shop, shopName: name }),
    );
    await mailer.send(signIn);
    name = "New Name";
    await mailer.send(signIn);
    expect(sent.map((m) => m.subject)).toEqual([
      "Your sign-in link for Old Name",
      "Your sign-in link for New Name",
    ]);
  });

  it("hands the transport the rendered message", async () => {
    const sent: MailMessage[] = [];
    await renderingMailer(
      { send: async (message) => void sent.push(message) },
      async () => shop,
    ).send(receipt);
    expect(sent).toEqual([renderMail(receipt, shop)]);
  });

  it("lets the transport's failure through as it is, permanent or not", async () => {
    for (const failure of [new MailFailure("mailbox gone", true), new MailFailure("busy")]) {
      const mailer = renderingMailer({ send: () => Promise.reject(failure) }, async () => shop);
      const error = await mailer.send(signIn).catch((e: unknown) => e);
      expect(error).toBe(failure);
      expect(isPermanentMailFailure(error)).toBe(failure.permanent);
    }
  });
});
