import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
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

/** A seller's page at 375 px: it fits the screen, every field has a label, and no JSON shows. */
async function checkPage(page: Page, name: string) {
  const facts = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    unlabelled: [...document.querySelectorAll("main input, main select, main textarea")]
      .filter((el) => (el as HTMLInputElement).type !== "hidden")
      .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML),
    text: document.body.innerText,
  }));
  expect(facts.width, `${name} fits 375 px`).toBeLessThanOrEqual(facts.viewport);
  expect(facts.unlabelled, `${name} labels`).toEqual([]);
  expect(facts.text, `${name} shows no JSON`).not.toMatch(/\{"code"|"message":/);
  await screenshot(page, name);
}

/**
 * The seller refunds a sale in a real Chromium at 375 px against `tollgate serve` with its local
 * Stripe: a guest buys with 4242, the seller finds the order and refunds it by keyboard, Stripe's
 * charge.refunded webhook ends the access, and the buyer's emailed link then says so in words.
 */
describe.skipIf(!CHROMIUM)("a seller refunds a sale in a real browser", () => {
  const t = useServerAndBrowser(["--demo"], { ADMIN_EMAILS: SELLER });

  it("refunds by keyboard; the buyer's link then says the purchase was refunded", async () => {
    const buyerContext = await t.browser.newContext({
      acceptDownloads: true,
      viewport: { width: 375, height: 800 },
    });
    const buyer = await buyerContext.newPage();
    buyer.setDefaultTimeout(PATIENCE_MS);
    await buyer.goto(`${t.server.url}/p/starter-kit`);
    await buyer.getByRole("button", { name: "Buy now" }).click();
    await buyer.getByLabel("Email").fill(BUYER);
    await buyer.getByLabel("Card number").fill("4242 4242 4242 4242");
    await buyer.getByRole("button", { name: /^Pay / }).click();
    await buyer.getByText("Payment received. Your files are ready.").waitFor();
    const download = await downloadFrom(buyer, "Download starter-kit-readme.txt");
    expect(download.filename).toBe("starter-kit-readme.txt");
    const link = await fromOutbox(buyer, t.server.url, BUYER, /http\S+\/d\/tgd_[\w-]+/);
    expect(link).toBeDefined();
    await buyer.goto(link as string);
    await buyer.getByRole("link", { name: "Download starter-kit-readme.txt" }).waitFor();

    const sellerContext = await t.browser.newContext({ viewport: { width: 375, height: 800 } });
    const seller = await sellerContext.newPage();
    seller.setDefaultTimeout(PATIENCE_MS);
    const confirmations: string[] = [];
    seller.on("dialog", (dialog) => {
      confirmations.push(dialog.message());
      void dialog.accept();
    });
    await seller.goto(`${t.server.url}/admin/orders`);
    await seller.waitForURL(/\/auth\/login\?next=%2Fadmin%2Forders/);
    await signInFromOutbox(seller, t.server.url, SELLER);
    await seller.waitForURL(`${t.server.url}/admin/orders`);
    const row = seller.getByRole("row", { name: new RegExp(BUYER) });
    await row.getByText("paid").waitFor();
    await checkPage(seller, "admin-orders");

    await row.getByRole("link").click();
    await seller.getByRole("heading", { name: /^Order ord_/ }).waitFor();
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
    await screenshot(seller, "admin-order-refund-requested");

    const deadline = Date.now() + PATIENCE_MS;
    while (!(await seller.locator("main").innerText()).includes("Refunded in Stripe.")) {
      if (Date.now() > deadline) throw new Error("the refund did not land");
      await seller.waitForTimeout(200);
      await seller.goto(`${seller.url().split("?")[0]}`);
    }
    expect(await seller.getByRole("table", { name: "Access from this order" }).innerText()).toMatch(
      /revoked[\s\S]*refunded/,
    );
    await screenshot(seller, "admin-order-refunded");

    await buyer.goto(link as string);
    await buyer.getByText("This purchase was refunded").waitFor();
    expect(await buyer.locator("h1").innerText()).toBe("No access");
    await screenshot(buyer, "refunded-link");

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
