import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, screenshot, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/** A real 1x1 PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
const NAME = "Pixel Forge";
const SUPPORT = "help@pixelforge.test";
/** Tokyo is UTC+9 all year (no summer time), so the expected text is plain arithmetic. */
const TOKYO_MS = 9 * 3600_000;

/** What a page must be at this width: no axe violation, and at 375 px nothing wider than the screen. */
async function fitsAndAxeClean(page: Page, name: string) {
  expect(await accessibilityViolations(page), `${name}: WCAG 2 AA`).toEqual([]);
  const { pageWidth, viewport } = await page.evaluate(() => ({
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
  expect(pageWidth, `${name}: fits ${viewport} px`).toBeLessThanOrEqual(viewport);
}

/** The shop's header and footer as every page shows them: the logo, the name, the address. */
async function expectBranding(page: Page) {
  const brand = page.locator("header.site a.brand");
  expect((await brand.innerText()).trim()).toBe(NAME);
  const logo = brand.locator("img");
  expect(await logo.getAttribute("src")).toMatch(/^\/images\/[0-9a-f]{64}\.png$/);
  await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
  const footer = page.locator("footer.site");
  expect(await footer.innerText()).toContain(`Questions? Write to ${SUPPORT}.`);
  expect(await footer.getByRole("link", { name: SUPPORT }).getAttribute("href")).toBe(
    `mailto:${SUPPORT}`,
  );
}

/** A moment as the shop writes it in Tokyo time: "2030-01-02 20:00 GMT+9". */
const inTokyo = (iso: string) =>
  `${new Date(Date.parse(iso) + TOKYO_MS).toISOString().slice(0, 16).replace("T", " ")} GMT+9`;

/** A `<time>` written in Tokyo time, matching its machine-readable moment; returns that moment. */
async function expectTokyoTime(time: Locator): Promise<string> {
  const iso = (await time.getAttribute("datetime")) as string;
  expect(await time.innerText()).toBe(inTokyo(iso));
  return iso;
}

/**
 * Issue 16, point 8, in a real Chromium against `tollgate serve --demo` and its local Stripe, at
 * a desktop's and a phone's width: the seller names the shop, gives it a support address, a time
 * zone and a logo on the Settings page; the store's header and footer show them; a buyer's
 * purchase is dated in Tokyo time and named by its reference on the success page and in the
 * library; the seller finds the order by that reference typed in lower case; the receipt mail
 * carries the shop's name and logo.
 */
describe.skipIf(!CHROMIUM)("shop settings in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);

  for (const width of [1280, 375]) {
    it(`at ${width} px: name, address, zone and logo saved; pages, dates, the order search and the receipt use them`, async () => {
      const sellerContext = await t.browser.newContext({ viewport: { width, height: 900 } });
      const seller = await sellerContext.newPage();
      seller.setDefaultTimeout(PATIENCE_MS);
      await seller.goto(`${t.server.url}/auth/login`);
      await signInFromOutbox(seller, t.server.url, "seller@example.com");
      await seller.goto(`${t.server.url}/admin/settings`);
      await seller.getByRole("heading", { name: "Your shop" }).waitFor();

      // Styled like every text field (a field without a type missed the stylesheet's rule).
      const nameBox = await seller.getByLabel("Shop name").boundingBox();
      expect(nameBox?.height ?? 0, "Shop name field height").toBeGreaterThanOrEqual(44);

      // A name of spaces passes the browser's own "required" and is refused by the shop, with
      // the reason and what was typed kept. (An empty or over-long name never leaves the
      // browser: required and maxlength=80; the HTTP test covers the server's answer to those.)
      await seller.getByLabel("Shop name").fill("   ");
      await seller.getByLabel("Support email").fill(SUPPORT);
      await seller.getByRole("button", { name: "Save shop settings" }).click();
      await seller.getByRole("alert").getByText("cannot be empty").waitFor();
      expect(await seller.getByLabel("Support email").inputValue()).toBe(SUPPORT);
      await fitsAndAxeClean(seller, "settings with an error");

      await seller.getByLabel("Shop name").fill(NAME);
      await seller.getByLabel("Support email").fill(SUPPORT);
      await seller.getByLabel("Time zone").selectOption("Asia/Tokyo");
      await seller.getByRole("button", { name: "Save shop settings" }).click();
      await seller
        .getByText("Shop settings saved. Pages and mails use them from now on.")
        .waitFor();
      expect(await seller.getByLabel("Shop name").inputValue()).toBe(NAME);
      expect(await seller.getByLabel("Time zone").inputValue()).toBe("Asia/Tokyo");

      await seller
        .locator('input[name="logo"]')
        .setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: PNG });
      await seller.getByRole("button", { name: "Upload logo" }).click();
      await seller.getByRole("status").getByText("Logo saved.").waitFor();
      const preview = seller.getByRole("img", { name: "The shop's logo" });
      await expect
        .poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth))
        .toBe(1);
      await seller.getByRole("button", { name: "Remove logo" }).waitFor();
      await expectBranding(seller);
      await fitsAndAxeClean(seller, "settings");
      await screenshot(seller, `shop-settings-${width}`);

      // The store, to anyone: the logo and name in the header, the address in the footer.
      const buyerContext = await t.browser.newContext({ viewport: { width, height: 900 } });
      const buyer = await buyerContext.newPage();
      buyer.setDefaultTimeout(PATIENCE_MS);
      await buyer.goto(`${t.server.url}/`);
      await expectBranding(buyer);
      expect(await buyer.title()).toContain(NAME);
      await fitsAndAxeClean(buyer, "store");
      await screenshot(buyer, `shop-settings-store-${width}`);

      // A guest buys through the local Stripe: the success page dates the order in Tokyo time
      // and names it by its reference, never by its ord_ id.
      const email = `tokyo-${width}@example.com`;
      await buyer.goto(`${t.server.url}/p/starter-kit`);
      await buyer.getByRole("button", { name: "Buy now" }).click();
      await buyer.getByLabel("Email").fill(email);
      await buyer.getByLabel("Card number").fill("4242 4242 4242 4242");
      await buyer.getByRole("button", { name: /^Pay / }).click();
      await buyer.waitForURL(/\/checkout\/success\?session_id=cs_/);
      await buyer.getByText("Payment received. Your files are ready.").waitFor();
      const ordered = buyer.locator("main p", { hasText: "Ordered" }).first();
      const orderedAt = await expectTokyoTime(ordered.locator("time"));
      const reference = (await ordered.locator("code").innerText()).trim();
      expect(reference).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      expect(await buyer.locator("main").innerText()).not.toContain("ord_");
      await expectBranding(buyer);
      await fitsAndAxeClean(buyer, "success page");

      // The library says the same, once the buyer signs in.
      await buyer.goto(`${t.server.url}/auth/login`);
      await signInFromOutbox(buyer, t.server.url, email);
      await buyer.goto(`${t.server.url}/library`);
      const card = buyer.locator("section.card", {
        has: buyer.getByRole("heading", { name: "Starter Kit (demo)" }),
      });
      const line = card.locator("p.muted", { hasText: "Ordered" });
      expect((await line.locator("code").innerText()).trim()).toBe(reference);
      await expectTokyoTime(line.locator("time"));
      await fitsAndAxeClean(buyer, "library");

      // The receipt mail: from the shop by its name, with its logo, support address and the
      // order's reference.
      await buyer.goto(`${t.server.url}/dev/outbox`);
      const receipt = buyer.locator("article.mail", {
        has: buyer.locator("p.muted", { hasText: `To ${email}` }),
        hasText: "Starter Kit",
      });
      await receipt.first().waitFor();
      const text = (await receipt.first().locator("pre").textContent()) ?? "";
      expect(text).toContain(`from ${NAME}`);
      expect(text).toContain(`Order reference: ${reference}`);
      expect(text).toContain(SUPPORT);
      expect(text).toMatch(/GMT\+9/);
      const html = (await receipt.first().locator("iframe").getAttribute("srcdoc")) ?? "";
      expect(html).toContain(NAME);
      expect(html).toMatch(/src="http[^"]+\/images\/[0-9a-f]{64}\.png"/);
      await buyerContext.close();

      // The seller finds the order by the reference as a buyer might quote it, in lower case.
      await seller.goto(`${t.server.url}/admin/orders`);
      await seller.getByLabel("Customer email or order reference").fill(reference.toLowerCase());
      await seller.getByRole("button", { name: "Show orders" }).click();
      await seller.waitForURL(/\/admin\/orders\?/);
      const rows = seller.locator("main table tbody tr");
      await expect.poll(() => rows.count()).toBe(1);
      expect(await rows.first().innerText()).toContain(email);
      // The list's dates are in the shop's zone like every other date.
      expect(await rows.first().getByRole("link").first().innerText(), "order list date").toBe(
        inTokyo(orderedAt),
      );
      await fitsAndAxeClean(seller, "orders found by reference");
      await screenshot(seller, `shop-settings-orders-${width}`);

      // The order's own page is named by the reference too.
      await rows.first().getByRole("link").first().click();
      await seller.getByRole("heading", { name: `Order ${reference}` }).waitFor();
      await expectTokyoTime(seller.locator("main time").first());
      await fitsAndAxeClean(seller, "order page");
      await sellerContext.close();
    });
  }
});
