import { describe, expect, it } from "vitest";
import { CHROMIUM, screenshot, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/**
 * Issue 20 in a real Chromium against `tollgate serve --demo` with promotion codes, tax IDs and
 * automatic tax on: a business buyer in Germany pays with the local Stripe's built-in LAUNCH40
 * (40% off) and their VAT number, gets the product, and the discount and tax ID reach the
 * seller's order page and the receipt.
 */
describe.skipIf(!CHROMIUM)("a discounted, taxed purchase in a real browser", () => {
  const t = useServerAndBrowser(["--demo"], {
    CHECKOUT_PROMOTION_CODES: "true",
    CHECKOUT_TAX_ID_COLLECTION: "true",
    CHECKOUT_AUTOMATIC_TAX: "true",
  });
  const buyer = "vat-buyer@example.com";

  it("buys the demo with LAUNCH40 and a German VAT number, and finds it in the library", async () => {
    const context = await t.browser.newContext({ viewport: { width: 375, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(t.server.url);
    await page.getByRole("link", { name: "Starter Kit (demo)" }).click();
    await page.getByRole("button", { name: "Buy now" }).click();

    // The local Stripe's hosted checkout page, with the fields the settings turned on.
    await page.locator('input[name="email"]').fill(buyer);
    await page.locator('select[name="country"]').selectOption("DE");
    await page.locator('input[name="tax_id"]').fill("DE123456789");
    await page.locator('input[name="promotion_code"]').fill("LAUNCH40");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('input[name="card_number"]').waitFor();
    // The page comes back with the code applied; what was typed stays (filled again if not).
    if (!(await page.locator('input[name="email"]').inputValue()))
      await page.locator('input[name="email"]').fill(buyer);
    if (!(await page.locator('input[name="tax_id"]').inputValue()))
      await page.locator('input[name="tax_id"]').fill("DE123456789");
    await page.locator('input[name="card_number"]').fill("4242 4242 4242 4242");
    await screenshot(page, "tax-discounts-checkout");
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.waitForURL(/\/checkout\/success\?session_id=cs_/);
    await page.getByText("Payment received. Your files are ready.").waitFor();
    const paid = (await page.locator("[data-paid]").first().innerText()).replace(/\s+/g, " ");
    // 40% off the demo's price; the tax, when the local Stripe charges any, is named after it.
    expect(paid).toMatch(/^Total paid \D?[\d.,]+ \(\D?[\d.,]+ off(, VAT \D?[\d.,]+)?\)$/);
    await screenshot(page, "tax-discounts-success");

    await signInFromOutbox(page, t.server.url, buyer);
    await page.goto(`${t.server.url}/library`);
    await page.getByRole("heading", { name: "Starter Kit (demo)" }).waitFor();
    await screenshot(page, "tax-discounts-library");
    await context.close();
  });

  it("shows the seller the discount and the tax ID, and the receipt the discount", async () => {
    const context = await t.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(`${t.server.url}/admin/orders`);
    await signInFromOutbox(page, t.server.url, "seller@example.com");
    await page.goto(`${t.server.url}/admin/orders?email=${encodeURIComponent(buyer)}`);
    await page.getByRole("link", { name: "Export CSV" }).waitFor();
    const row = page.getByRole("row").filter({ hasText: buyer }).first();
    await expect.poll(async () => await row.innerText()).toMatch(/Discount\s+\u2212/);
    await row.getByRole("link").first().click();
    await page.waitForURL(/\/admin\/orders\/ord_/);
    const details = (await page.locator("table.facts").first().innerText()).replace(/\s+/g, " ");
    expect(details).toMatch(/Subtotal \D?[\d.,]+ Discount \u2212\D?[\d.,]+ /);
    expect(details).toContain("DE123456789");
    expect(details).toContain("Country DE");
    await screenshot(page, "tax-discounts-seller-order");

    await page.goto(`${t.server.url}/dev/outbox`);
    const receipt = page.locator("article").filter({ hasText: "Your purchase: Starter Kit" });
    await expect
      .poll(async () => (await receipt.first().locator("pre").textContent()) ?? "")
      .toMatch(/Discount:\s+\u2212/);
    const text = await receipt.first().locator("pre").textContent();
    expect(text).toMatch(/Total paid:/);
    expect(text).toContain("DE123456789");
    await context.close();
  });
});
