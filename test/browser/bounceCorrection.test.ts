import { afterAll, describe, expect, it } from "vitest";
import { startSmtpServer } from "../mail/smtp-server.ts";
import { CHROMIUM, screenshot, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

const smtp = await startSmtpServer({ rejectRecipients: ["typo@example.com"] });

/**
 * A buyer mistypes their email at checkout: in a real Chromium at 375 px against a real
 * `tollgate serve --demo` whose mail goes to an SMTP server answering 550 for that address, the
 * success page says the receipt bounced, the buyer types the right address, opens the sign-in
 * link mailed to it, and finds the purchase in that address's library (decision 0024).
 */
describe.skipIf(!CHROMIUM)("correcting a bounced receipt's email, in a real browser", () => {
  const t = useServerAndBrowser(["--demo"], {
    MAIL_URL: smtp.url(),
    MAIL_FROM: "Demo Shop <shop@demo.example>",
  });
  afterAll(() => smtp.close());

  it("the success page offers the correction; the purchase moves once the new link is used", async () => {
    const context = await t.browser.newContext({ viewport: { width: 375, height: 800 } });
    const page = await context.newPage();
    await page.goto(t.server.url);
    await page.getByRole("link", { name: "Starter Kit (demo)" }).click();
    await page.getByRole("button", { name: "Buy now" }).click();
    await page.getByLabel("Email").fill("typo@example.com");
    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.waitForURL(/\/checkout\/success\?session_id=cs_/);
    await page
      .getByText("Payment received. Your files are ready.")
      .waitFor({ timeout: PATIENCE_MS });

    // The receipt goes out after the answer: the page says so once it bounced.
    const bounced = page.getByRole("heading", { name: "Your receipt could not be delivered" });
    await expect
      .poll(
        async () => {
          if (await bounced.count()) return true;
          await page.reload();
          return false;
        },
        { timeout: PATIENCE_MS, interval: 500 },
      )
      .toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await screenshot(page, "375-checkout-receipt-bounced");

    await page.getByLabel("The email address you meant").fill("right@example.com");
    await page.getByRole("button", { name: "Send my purchase there" }).click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    expect(await page.getByRole("status").innerText()).toContain(
      "We sent a sign-in link to right@example.com",
    );

    const toRight = () => smtp.received.find((r) => r.envelope.to.includes("right@example.com"));
    await expect.poll(() => toRight() !== undefined, { timeout: PATIENCE_MS }).toBe(true);
    const text = toRight()?.mail.text ?? "";
    const link = /http\S+\/auth\/callback\?token=[\w-]+/.exec(text)?.[0];
    expect(link).toBeDefined();

    // Opened in another browser (the buyer's phone mail app): the purchase is now theirs.
    const phone = await t.browser.newContext({ viewport: { width: 375, height: 800 } });
    const inbox = await phone.newPage();
    await inbox.goto(link as string);
    await inbox.getByRole("heading", { name: "Your library" }).waitFor();
    expect(await inbox.locator("#library-notice").innerText()).toContain(
      "Starter Kit (demo) now belongs to right@example.com",
    );
    await inbox.getByRole("heading", { name: "Starter Kit (demo)" }).waitFor();
    await screenshot(inbox, "375-library-after-correction");

    // A new receipt goes to the corrected address.
    await expect
      .poll(
        () =>
          smtp.received.some(
            (r) =>
              r.envelope.to.includes("right@example.com") &&
              (r.mail.subject ?? "").startsWith("Your purchase"),
          ),
        { timeout: PATIENCE_MS },
      )
      .toBe(true);
    await phone.close();
    await context.close();
  }, 120_000);
});
