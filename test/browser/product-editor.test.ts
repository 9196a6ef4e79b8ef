import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Page, Route } from "playwright-core";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, screenshot, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/** A real 1x1 PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

const DESCRIPTION = [
  "# Twelve families",
  "",
  "**Bold** weights and [a specimen](https://example.com/specimen).",
  "",
  "- Sans",
  "- Serif",
  "",
  "<script>window.hacked = 1</script> [click](javascript:window.hacked=2)",
].join("\n");

/** Drops files on the upload form the way a browser does: a drop event carrying a DataTransfer. */
async function dropFiles(page: Page, files: { name: string; size: number; fill: string }[]) {
  await page.evaluate((list) => {
    const transfer = new DataTransfer();
    for (const f of list)
      transfer.items.add(new File([f.fill.repeat(f.size)], f.name, { type: "application/zip" }));
    const zone = document.querySelector("[data-dropzone]") as HTMLElement;
    for (const type of ["dragenter", "dragover", "drop"])
      zone.dispatchEvent(
        new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
  }, files);
}

async function axeClean(page: Page) {
  expect(await accessibilityViolations(page)).toEqual([]);
}

/**
 * Issue 16, point 9 in a real Chromium: the seller gives a product a cover, uploads two files at
 * once by dropping them and cancels a third, writes a Markdown description and publishes; the
 * store and the product page show the cover and the formatted description, at phone and desktop
 * widths; the same bytes uploaded again are kept, and the page says so.
 */
describe.skipIf(!CHROMIUM)("the product editor, in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);

  it("cover, several files by drag and drop with one cancelled, Markdown, publish, and the store shows it", async () => {
    const context = await t.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(`${t.server.url}/auth/login`);
    await signInFromOutbox(page, t.server.url, "seller@example.com");

    await page.goto(`${t.server.url}/admin/products/new`);
    await page.getByLabel("Name").fill("Cover Fonts");
    await page.getByLabel("Price", { exact: true }).fill("9.00");
    await page.getByRole("button", { name: "Create product" }).click();
    await page.waitForURL(`${t.server.url}/admin/products/cover-fonts?done=created`);

    // The cover: refused when it is not an image, then taken and shown.
    await page
      .locator("input#cover-file")
      .setInputFiles({ name: "cover.png", mimeType: "image/png", buffer: Buffer.from("<svg/>") });
    await page.getByRole("button", { name: "Save cover" }).click();
    await page.getByRole("alert").getByText("not a PNG, JPEG, WebP or GIF").waitFor();
    await page
      .locator("input#cover-file")
      .setInputFiles({ name: "cover.png", mimeType: "image/png", buffer: PNG });
    await page.getByRole("button", { name: "Save cover" }).click();
    await page.getByText("Cover saved").waitFor();
    const current = page.getByRole("img", { name: "Current cover of Cover Fonts" });
    await expect.poll(() => current.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);

    // Three files dropped at once; the third is held on its way and cancelled.
    let held: Route | null = null;
    await page.route(/\/assets\?filename=big\.zip/, (route) => {
      held = route;
    });
    await dropFiles(page, [
      { name: "guide.zip", size: 2000, fill: "g" },
      { name: "fonts.zip", size: 300_000, fill: "f" },
      { name: "big.zip", size: 3_000_000, fill: "b" },
    ]);
    const rows = page.locator("#upload-list li");
    await expect.poll(() => rows.count()).toBe(3);
    await expect.poll(() => held !== null).toBe(true);
    await page.getByRole("button", { name: "Cancel big.zip" }).click();
    // The two others were recorded: the page reloads with them and tells what became of the third.
    await page.waitForURL(/done=uploaded-many/);
    await page.getByText("Files uploaded. Buyers of this product get them from now on.").waitFor();
    await page.getByText("big.zip: cancelled, nothing kept.").waitFor();
    const files = page.getByRole("region", { name: "Files" }).locator("tbody tr");
    await expect.poll(() => files.count()).toBe(2);
    expect(await page.locator("#files").locator("..").locator("table").innerText()).not.toContain(
      "big.zip",
    );
    await page.unroute(/\/assets\?filename=big\.zip/);
    // Nothing half-made in the shop's storage either.
    const partials = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? partials(join(dir, e.name))
          : e.name.includes(".partial-")
            ? [e.name]
            : [],
      );
    expect(partials(t.server.dir)).toEqual([]);

    // A Markdown description, previewed, saved; then published.
    await page.getByLabel("Description").fill(DESCRIPTION);
    await page.getByRole("button", { name: "Preview description" }).click();
    await page.getByRole("heading", { name: "Twelve families" }).waitFor();
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Changes saved.").waitFor();
    await page.getByRole("button", { name: "Publish", exact: true }).click();
    await page.getByText("Published: the product is in the store.").waitFor();

    // The same bytes again: no new version, and the page says so without reloading.
    await page.getByLabel("File", { exact: true }).setInputFiles({
      name: "fonts.zip",
      mimeType: "application/zip",
      buffer: Buffer.alloc(300_000, "f"),
    });
    await page.getByRole("button", { name: "Upload" }).click();
    await page
      .locator("#upload-list")
      .getByText("Same bytes as version 1: kept, no new version.")
      .waitFor();
    expect(await page.locator("#upload-text").innerText()).toBe(
      "fonts.zip: Same bytes as version 1: kept, no new version.",
    );
    expect(await files.count()).toBe(2);
    await axeClean(page);
    await screenshot(page, "product-editor-1280");
    await page.setViewportSize({ width: 375, height: 800 });
    await axeClean(page);
    await context.close();

    for (const width of [375, 1280]) {
      const buyerContext = await t.browser.newContext({ viewport: { width, height: 900 } });
      const buyer = await buyerContext.newPage();
      buyer.setDefaultTimeout(PATIENCE_MS);
      await buyer.goto(`${t.server.url}/`);
      const card = buyer.locator("article", {
        has: buyer.getByRole("link", { name: "Cover Fonts" }),
      });
      const cardCover = card.locator("img.cover");
      await cardCover.scrollIntoViewIfNeeded();
      await expect
        .poll(() => cardCover.evaluate((img: HTMLImageElement) => img.naturalWidth))
        .toBe(1);
      // The card's box is 16:9 before and after the image arrives.
      const box = await cardCover.boundingBox();
      expect(Math.abs((box?.width ?? 0) / (box?.height ?? 1) - 16 / 9)).toBeLessThan(0.05);
      expect(await card.innerText()).toContain("Twelve families Bold weights and a specimen.");
      await axeClean(buyer);

      await buyer.getByRole("link", { name: "Cover Fonts" }).click();
      await buyer.getByRole("heading", { name: "Cover Fonts", level: 1 }).waitFor();
      const cover = buyer.getByRole("img", { name: "Cover Fonts" });
      await expect.poll(() => cover.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
      await buyer.getByRole("heading", { name: "Twelve families", level: 2 }).waitFor();
      expect(await buyer.locator(".prose strong").innerText()).toBe("Bold");
      const link = buyer.getByRole("link", { name: "a specimen" });
      expect(await link.getAttribute("href")).toBe("https://example.com/specimen");
      expect(await link.getAttribute("rel")).toBe("nofollow noopener");
      expect(await buyer.locator(".prose li").allInnerTexts()).toEqual(["Sans", "Serif"]);
      // What looked like script or a javascript: link is text.
      expect(await buyer.locator(".prose").innerText()).toContain(
        "<script>window.hacked = 1</script>",
      );
      expect(await buyer.locator(".prose a[href^='javascript']").count()).toBe(0);
      expect(
        await buyer.evaluate(() => (window as unknown as { hacked?: number }).hacked),
      ).toBeUndefined();
      await axeClean(buyer);
      await screenshot(buyer, `product-page-cover-${width}`);
      await buyerContext.close();
    }
  });
});
