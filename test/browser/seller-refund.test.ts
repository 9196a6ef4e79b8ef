import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import {
  CHROMIUM,
  downloadFrom,
  screenshot,
  signInFromOutbox,
  useServerAndBrowser,
} from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

const SELLER = "owner@shop.example";
const BUYER = "refund-me@example.com";

/** The newest mail to `to` in /dev/outbox that matches `pattern`, read as a person would. */
async function fromOutbox(page: Page, baseUrl: string, to: string, pattern: RegExp) {
  const outbox = await page.context().newPage();
  try {
    await outbox.goto(`${baseUrl}/dev/outbox`);
    const mail = outbox.locator("article", { hasText: `To ${to}` }).first();
    return ((await mail.locator("pre").textContent()) ?? "").match(pattern)?.[0];
  } finally {
    await outbox.close();
  }
}

/** What a page must be at this width: no axe violation, and nothing wider than the screen. */
async function fitsAndAxeClean(page: Page, name: string) {
  const width = page.viewportSize()?.width;
  expect(await accessibilityViolations(page), `${name} at ${width} px: WCAG 2 AA`).toEqual([]);
  const { pageWidth, viewport } = await page.evaluate(() => ({
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
  expect(pageWidth, `${name}: fits ${viewport} px`).toBeLessThanOrEqual(viewport);
}

/**
 * A seller's page: axe clean, it fits the screen, every field has a label, and no JSON shows.
 * The screenshot is named for the width.
 */
async function checkPage(page: Page, name: string) {
  await fitsAndAxeClean(page, name);
  const facts = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    unlabelled: [...document.querySelectorAll("main input, main select, main textarea")]
      .filter((el) => (el as HTMLInputElement).type !== "hidden")
      .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML),
    text: document.body.innerText,
  }));
  expect(facts.width, `${name} fits ${facts.viewport} px`).toBeLessThanOrEqual(facts.viewport);
  expect(facts.unlabelled, `${name} labels`).toEqual([]);
  expect(facts.text, `${name} shows no JSON`).not.toMatch(/\{"code"|"message":/);
  await screenshot(page, `${name}-${facts.viewport}`);
}

/**
 * The seller refunds a sale in a real Chromium against `tollgate serve` with its local Stripe, at
 * a desktop's and a phone's width, axe clean and fitting the screen on every page: a guest buys
 * with 4242, the seller finds the order and refunds it by keyboard, Stripe's charge.refunded
 * webhook ends the access, and the buyer's emailed link then says so in words. Issue 16, point 3:
 * the buyer gets a refund mail, their library lists the purchase under "Purchases that ended"
 * with the reason, the seller's Links page shows the link as refunded instead of active, and the
 * order page says "Refunded" with no hint to reload.
 */
for (const width of [1280, 375]) {
  describe.skipIf(!CHROMIUM)(`a seller refunds a sale in a real browser at ${width} px`, () => {
    const t = useServerAndBrowser(["--demo"], { ADMIN_EMAILS: SELLER });

    it("refunds by keyboard; the buyer's link then says the purchase was refunded", async () => {
      const buyerContext = await t.browser.newContext({
        acceptDownloads: true,
        viewport: { width, height: 800 },
      });
      const buyer = await buyerContext.newPage();
      buyer.setDefaultTimeout(PATIENCE_MS);
      await buyer.goto(`${t.server.url}/p/starter-kit`);
      await fitsAndAxeClean(buyer, "product page");
      await buyer.getByRole("button", { name: "Buy now" }).click();
      await buyer.getByLabel("Email").fill(BUYER);
      await buyer.getByLabel("Card number").fill("4242 4242 4242 4242");
      await fitsAndAxeClean(buyer, "checkout (local Stripe)");
      await buyer.getByRole("button", { name: /^Pay / }).click();
      await buyer.getByText("Payment received. Your files are ready.").waitFor();
      await fitsAndAxeClean(buyer, "success page");
      const download = await downloadFrom(buyer, "Download starter-kit-readme.txt");
      expect(download.filename).toBe("starter-kit-readme.txt");
      const link = await fromOutbox(buyer, t.server.url, BUYER, /http\S+\/d\/tgd_[\w-]+/);
      expect(link).toBeDefined();
      await buyer.goto(link as string);
      await buyer.getByRole("link", { name: "Download starter-kit-readme.txt" }).waitFor();
      await fitsAndAxeClean(buyer, "download link page");

      const sellerContext = await t.browser.newContext({ viewport: { width, height: 800 } });
      const seller = await sellerContext.newPage();
      seller.setDefaultTimeout(PATIENCE_MS);
      const confirmations: string[] = [];
      seller.on("dialog", (dialog) => {
        confirmations.push(dialog.message());
        void dialog.accept();
      });
      await seller.goto(`${t.server.url}/admin/orders`);
      await seller.waitForURL(/\/auth\/login\?next=%2Fadmin%2Forders/);
      await fitsAndAxeClean(seller, "sign-in page");
      await signInFromOutbox(seller, t.server.url, SELLER);
      await seller.waitForURL(`${t.server.url}/admin/orders`);
      const row = seller.getByRole("row", { name: new RegExp(BUYER) });
      await row.getByText("paid").waitFor();
      await checkPage(seller, "admin-orders");

      await row.getByRole("link").first().click();
      // Named by the reference on the buyer's receipt (issue 16, point 8), not its ord_ id.
      await seller.getByRole("heading", { name: /^Order [0-9A-Z]{5}-[0-9A-Z]{5}$/ }).waitFor();
      const reference = (await seller.locator("h1 code").innerText()).trim();
      const orderUrl = seller.url().split("?")[0] as string;
      expect(await seller.locator("main").innerText()).toContain("Paid: the buyer has access.");
      await checkPage(seller, "admin-order");

      // Tab through the page to the refund button and press Enter, as a keyboard user would.
      await seller.locator("h1").click();
      let focused = "";
      for (let i = 0; i < 40 && !focused.startsWith("Refund"); i++) {
        await seller.keyboard.press("Tab");
        focused = await seller.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
      }
      expect(focused).toBe("Refund $19.00");
      await seller.keyboard.press("Enter");
      await seller.waitForURL(/\?done=refund-requested$/);
      expect(confirmations).toEqual([
        `Refund $19.00 to ${BUYER}? Stripe returns the money and the buyer loses access to Starter Kit (demo).`,
      ]);
      // Or, when Stripe has confirmed it before the page loaded, the page says that instead.
      await seller
        .getByText(
          /^(Refund requested; access ends when Stripe confirms it \(usually seconds\)\.|Refunded: Stripe has confirmed it\.)/,
        )
        .first()
        .waitFor();
      await checkPage(seller, "admin-order-refund-requested");

      // Loaded again (as the seller would, with the notice's address) until Stripe's webhook lands.
      const deadline = Date.now() + PATIENCE_MS;
      while (!(await seller.locator("main").innerText()).includes("Refunded in Stripe.")) {
        if (Date.now() > deadline) throw new Error("the refund did not land");
        await seller.waitForTimeout(200);
        await seller.goto(`${orderUrl}?done=refund-requested`);
      }
      expect(
        await seller.getByRole("table", { name: "Access from this order" }).innerText(),
      ).toMatch(/revoked[\s\S]*refunded/);
      // Refunded, and it says so: no hint to reload, no refund button left.
      const refundedText = await seller.locator("main").innerText();
      expect(refundedText).toContain("Refunded: Stripe has confirmed it.");
      expect(refundedText).not.toMatch(/reload/i);
      expect(await seller.getByRole("button", { name: /^Refund/ }).count()).toBe(0);
      await checkPage(seller, "admin-order-refunded");

      await buyer.goto(link as string);
      await buyer.getByText("This purchase was refunded").waitFor();
      expect(await buyer.locator("h1").innerText()).toBe("No access");
      await fitsAndAxeClean(buyer, "refunded link page");
      await screenshot(buyer, `refunded-link-${width}`);

      // The buyer is told by mail: what was refunded, how much, the order, and what it means.
      await buyer.goto(`${t.server.url}/dev/outbox`);
      const mail = buyer.locator("article.mail", {
        has: buyer.getByRole("heading", { name: "Refunded: Starter Kit (demo)" }),
      });
      await mail.waitFor();
      expect(await mail.locator("p.muted").innerText()).toContain(`To ${BUYER}`);
      const refundMail = (await mail.locator("pre").textContent()) ?? "";
      expect(refundMail).toContain("refunded your purchase of Starter Kit (demo).");
      expect(refundMail).toMatch(/Amount refunded: +\$19\.00/);
      expect(refundMail).toMatch(new RegExp(`Order reference: +${reference}`));
      expect(refundMail).toContain(
        "The download links for Starter Kit (demo) no longer work, and your library lists the purchase as refunded.",
      );
      expect(await mail.locator("iframe").getAttribute("srcdoc")).toContain("Your refund");
      await fitsAndAxeClean(buyer, "outbox");

      // The library lists the purchase as ended, with the reason, rather than owning nothing.
      await buyer.goto(`${t.server.url}/auth/login?next=%2Flibrary`);
      await signInFromOutbox(buyer, t.server.url, BUYER);
      await buyer.goto(`${t.server.url}/library`);
      const ended = buyer.getByRole("region", { name: "Purchases that ended" });
      await ended.waitFor();
      expect(await buyer.locator("main").innerText()).toContain(
        "None of your purchases gives you files right now.",
      );
      expect(await ended.innerText()).toMatch(
        /Starter Kit \(demo\)\s+Refunded This purchase was refunded, so its files are no longer available\./,
      );
      await fitsAndAxeClean(buyer, "library after the refund");
      await screenshot(buyer, `library-refunded-${width}`);

      // The order list says refunded too.
      await seller.getByRole("link", { name: "Orders" }).first().click();
      await seller.getByRole("heading", { name: "Orders" }).waitFor();
      expect(await row.innerText()).toContain("refunded");
      await checkPage(seller, "admin-orders-refunded");

      // The Links page shows the receipt's link as it stands: refunded, not active.
      await seller.getByRole("link", { name: "Links" }).click();
      await seller.getByRole("heading", { name: "Download links" }).waitFor();
      const links = seller.getByRole("row", { name: new RegExp(BUYER) });
      expect(await links.count()).toBeGreaterThan(0);
      for (const text of await links.allInnerTexts()) {
        expect(text).toMatch(/Starter Kit \(demo\)[\s\S]*refunded/);
        expect(text).not.toMatch(/\bactive\b/);
      }
      expect(await links.getByRole("button", { name: "Revoke" }).count()).toBe(0);
      await checkPage(seller, "admin-links-refunded");

      // The rest of the seller's pages, as they stand after the sale and the refund.
      await seller.getByRole("link", { name: "Customers" }).click();
      await seller.getByRole("heading", { name: "Customers" }).waitFor();
      expect(await seller.locator("main").innerText()).toMatch(
        /Starter Kit \(demo\)\s+purchase\s+revoked/,
      );
      await seller.getByLabel("Email", { exact: true }).fill(BUYER);
      await seller.getByLabel("Product").selectOption({ label: "Starter Kit (demo)" });
      await seller.getByRole("button", { name: "Grant access" }).click();
      await seller.getByText("Access granted").waitFor();
      await checkPage(seller, "admin-customers");

      await seller.getByRole("link", { name: "Links" }).click();
      await seller.getByLabel("For (email)").fill(BUYER);
      await seller.getByLabel("Product").selectOption({ label: "Starter Kit (demo)" });
      await seller.getByLabel("Expires after").fill("7d");
      await seller.getByRole("button", { name: "Create link" }).click();
      const fresh = await seller.getByLabel("Download link", { exact: true }).inputValue();
      expect(fresh).toMatch(/\/d\/tgd_/);
      // The new link, from the granted access, is active; the refunded one stays refunded.
      const statuses = (await links.allInnerTexts()).map((text) =>
        /\brefunded\b/.test(text) ? "refunded" : /\bactive\b/.test(text) ? "active" : text,
      );
      expect(statuses[0]).toBe("active");
      expect(statuses.slice(1)).toContain("refunded");
      await checkPage(seller, "admin-links");
      await buyer.goto(fresh);
      await buyer.getByRole("link", { name: "Download starter-kit-readme.txt" }).waitFor();

      await seller.getByRole("link", { name: "Downloads" }).click();
      expect(await seller.locator("main").innerText()).toMatch(
        new RegExp(`starter-kit-readme\\.txt\\s+${BUYER.replace(".", "\\.")}`),
      );
      await checkPage(seller, "admin-downloads");

      await seller.getByRole("link", { name: "Webhooks" }).click();
      expect(await seller.locator("main").innerText()).toMatch(
        /charge\.refunded[\s\S]*processed\s+refunded: access revoked/,
      );
      await checkPage(seller, "admin-webhooks");

      await seller.getByRole("link", { name: "Settings" }).click();
      expect(await seller.locator("main").innerText()).toMatch(/ok\s+database/);
      await checkPage(seller, "admin-settings");
      await sellerContext.close();
      await buyerContext.close();
    });
  });
}
