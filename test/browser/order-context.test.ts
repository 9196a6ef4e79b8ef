import { describe, expect, it } from "vitest";
import { readZip, sha256 } from "../http/order-context-support.ts";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, screenshot, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

const FILES = [
  { filename: "b-notes.txt", content: "notes ".repeat(300) },
  { filename: "C-Extras.txt", content: "extras ".repeat(900) },
  { filename: "a-Guide.txt", content: "guide ".repeat(600) },
];
const IN_ORDER = ["a-Guide.txt", "b-notes.txt", "C-Extras.txt"];

/**
 * Issue 16, point 10, in a real Chromium against `tollgate serve --demo` and its local Stripe: a
 * buyer sees when they bought, what they paid and the order's reference, opens the receipt at
 * (the local) Stripe, and downloads every file in one zip, at phone and desktop widths.
 */
describe.skipIf(!CHROMIUM)("a buyer's order context in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);
  const adminToken = () =>
    /Admin token \(from data\/secrets\.json\): (\S+)/.exec(t.server.output())?.[1] ?? "";
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${t.server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adminToken()}`, ...(init.headers ?? {}) },
    });
  const sums = new Map<string, string>();
  let slug = "";

  it("buys a three-file product signed in; the success page has the receipt and 'Download all'", async () => {
    const created = await admin("/api/admin/products", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        slug: "field-kit",
        name: "Field Kit",
        price: { amount: 1900, currency: "usd" },
        kind: "one_time",
      }),
    });
    expect(created.status).toBe(201);
    slug = "field-kit";
    for (const f of FILES) {
      const res = await admin(`/api/admin/products/${slug}/assets?filename=${f.filename}`, {
        method: "POST",
        body: f.content,
      });
      expect(res.status).toBe(201);
      sums.set(f.filename, ((await res.json()) as { sha256: string }).sha256);
    }

    const context = await t.browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await signInFromOutbox(page, t.server.url, "field@example.com");
    await page.goto(`${t.server.url}/p/${slug}`);
    await page.getByRole("button", { name: "Buy now" }).click();
    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.waitForURL(/\/checkout\/success\?session_id=cs_/);
    await page
      .getByText("Payment received. Your files are ready.")
      .waitFor({ timeout: PATIENCE_MS });
    await expectOrderContext(page);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, "order-context-success-1280");
    await expectZip(page, "Download all files of Field Kit");
    await context.close();
  });

  for (const width of [375, 1280]) {
    it(`at ${width} px the library shows the order, opens its receipt and downloads all`, async () => {
      const context = await t.browser.newContext({
        acceptDownloads: true,
        viewport: { width, height: 800 },
      });
      const page = await context.newPage();
      await signInFromOutbox(page, `${t.server.url}`, "field@example.com");
      await page.goto(`${t.server.url}/library`);
      const card = page.locator("section.card", {
        has: page.getByRole("heading", { name: "Field Kit" }),
      });
      await card.waitFor();
      await expectOrderContext(card);
      expect(await card.locator(".files .name").allInnerTexts()).toEqual(IN_ORDER);
      expect(await accessibilityViolations(page)).toEqual([]);
      // Every action is in view and usable at this width, none cut off.
      for (const name of ["Download all files of Field Kit", "Receipt for Field Kit"]) {
        const box = await card.getByRole("link", { name }).boundingBox();
        expect(box && box.x >= 0 && box.x + box.width <= width, name).toBe(true);
      }
      await screenshot(page, `order-context-library-${width}`);

      await expectZip(page, "Download all files of Field Kit");

      await card.getByRole("link", { name: "Receipt for Field Kit" }).click();
      await page.waitForURL(/\/receipts\/payment\/ch_/);
      await page.getByRole("heading", { name: "Receipt" }).waitFor();
      expect(await page.locator("[data-amount]").innerText()).toBe("$19.00");
      expect(await accessibilityViolations(page)).toEqual([]);
      await screenshot(page, `order-context-receipt-${width}`);
      await context.close();
    });
  }

  /** The order line: a date, the price paid and a reference, and the two actions. */
  async function expectOrderContext(
    scope: import("playwright-core").Page | import("playwright-core").Locator,
  ) {
    const line = scope.locator("p.muted", { hasText: "Ordered" }).first();
    const text = await line.innerText();
    expect(text).toMatch(/Ordered .*\d.* · \$19\.00 · order \S+/);
    expect((await line.locator("code").innerText()).trim()).not.toBe("");
    await scope.getByRole("link", { name: "Receipt for Field Kit" }).waitFor();
    const all = scope.getByRole("link", { name: "Download all files of Field Kit" });
    expect(await all.innerText()).toMatch(/^Download all\b[\s\S]*\(3 files, \d.*, zip\)$/);
  }

  async function expectZip(page: import("playwright-core").Page, linkName: string) {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: linkName }).first().click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${slug}.zip`);
    const { readFile } = await import("node:fs/promises");
    const zip = new Uint8Array(await readFile((await download.path()) as string));
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(IN_ORDER);
    for (const e of entries) expect(sha256(e.bytes), e.name).toBe(sums.get(e.name));
  }
});
