import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import {
  CHROMIUM,
  downloadFrom,
  launchBrowser,
  screenshot,
  signInFromOutbox,
  useServerAndBrowser,
} from "../support/browser.ts";
import { cli } from "../support/cli.ts";
import { PATIENCE_MS } from "../support/patience.ts";
import { startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../support/s3-server.ts";
import { type RunningServer, startServer } from "../support/server.ts";

/** Uploads a file through the page and returns what the progress bar and its text showed. */
async function upload(page: Page, name: string, bytes: Buffer) {
  await page.evaluate(() => {
    const seen: { values: number[]; texts: string[] } = { values: [], texts: [] };
    const bar = document.getElementById("upload-progress") as HTMLProgressElement;
    const text = document.getElementById("upload-text") as HTMLElement;
    new MutationObserver(() => {
      seen.values.push(bar.value);
      seen.texts.push(text.textContent ?? "");
      sessionStorage.setItem("upload", JSON.stringify(seen));
    }).observe(document.getElementById("upload") as HTMLElement, {
      attributes: true,
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  await page
    .getByLabel("File", { exact: true })
    .setInputFiles({ name, mimeType: "application/zip", buffer: bytes });
  // Success reloads the page; a failure stays and says why.
  const outcome = Promise.race([
    page.waitForEvent("load").then(() => null),
    page
      .locator("#upload-text.bad")
      .waitFor()
      .then(() => page.locator("#upload-text").innerText()),
  ]);
  await page.getByRole("button", { name: "Upload" }).click();
  const failure = await outcome;
  if (failure) throw new Error(failure);
  await page.getByText("File uploaded. Buyers of this product get it from now on.").waitFor();
  return JSON.parse((await page.evaluate(() => sessionStorage.getItem("upload"))) ?? "{}") as {
    values: number[];
    texts: string[];
  };
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
 * The seller in a real Chromium against `tollgate serve --demo`: signs in as the demo seller,
 * creates a product by keyboard, uploads a file and then a new version of it with a progress bar;
 * a buyer who owns the product sees and downloads the new version. Issue 16, point 2, at a
 * desktop's and a phone's width, axe clean and fitting the screen on every page: a draft with no
 * file is refused publishing with the reason and is not in the store; once it has a file the
 * seller previews it exactly as a buyer who owns it sees it in the library, publishes it and the
 * store lists it.
 */
for (const width of [1280, 375]) {
  describe.skipIf(!CHROMIUM)(`a seller in a real browser at ${width} px`, () => {
    const t = useServerAndBrowser(["--demo"]);

    it("creates a product, uploads a file and a new version with progress; the buyer downloads the new one", async () => {
      const context = await t.browser.newContext({
        acceptDownloads: true,
        viewport: { width, height: 800 },
      });
      const page = await context.newPage();
      page.setDefaultTimeout(PATIENCE_MS);
      // Anyone looking at the store meanwhile, signed out.
      const visitorContext = await t.browser.newContext({ viewport: { width, height: 800 } });
      const visitor = await visitorContext.newPage();
      visitor.setDefaultTimeout(PATIENCE_MS);

      await page.goto(`${t.server.url}/admin`);
      await page.waitForURL(/\/auth\/login\?next=%2Fadmin/);
      await fitsAndAxeClean(page, "sign-in page");
      await signInFromOutbox(page, t.server.url, "seller@example.com");
      await page.waitForURL(`${t.server.url}/admin`);
      await page.getByRole("heading", { name: "Dashboard" }).waitFor();
      await fitsAndAxeClean(page, "dashboard");
      await screenshot(page, `admin-dashboard-${width}`);

      await page.getByRole("link", { name: "Products" }).click();
      await page.getByRole("link", { name: "Starter Kit (demo)" }).waitFor();
      await fitsAndAxeClean(page, "products");
      await screenshot(page, `admin-products-${width}`);
      await page.getByRole("link", { name: "New product" }).click();
      await page.getByLabel("Name").waitFor();
      await fitsAndAxeClean(page, "new product");

      // The whole form by keyboard: type, Tab to the next field, Space on the checkbox, Enter.
      await page.getByLabel("Name").focus();
      await page.keyboard.type("Font Bundle");
      // The address follows the name; a one-time product has no billing interval to choose.
      expect(await page.getByLabel("Address").inputValue()).toBe("font-bundle");
      expect(await page.getByLabel("Billed every").isVisible()).toBe(false);
      await page.keyboard.press("Tab");
      await page.keyboard.type("font-bundle");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Tab");
      await page.keyboard.type("Twelve families.");
      await page.keyboard.press("Tab");
      await page.keyboard.type("12.00");
      await screenshot(page, `admin-new-product-${width}`);
      await page.keyboard.press("Enter");
      await page.waitForURL(`${t.server.url}/admin/products/font-bundle?done=created`);
      await page.getByText("Product created as a draft.").waitFor();
      // The readiness checklist says what is missing and how to fix it.
      const readiness = page.getByRole("region", { name: "Ready to sell?" });
      expect(await readiness.innerText()).toMatch(
        /Publishing needs these first:[\s\S]*At least one file to deliver — Upload the file buyers get\./,
      );
      await fitsAndAxeClean(page, "draft product");
      // A draft with nothing to deliver cannot be published, and the page says why.
      await page.getByRole("button", { name: "Publish", exact: true }).click();
      await page.getByText("at least one file to deliver is missing").waitFor();
      expect(await page.getByRole("alert").innerText()).toContain(
        "at least one file to deliver is missing",
      );
      expect(await page.locator("h1").innerText()).toMatch(/Font Bundle\s+draft/);
      await fitsAndAxeClean(page, "publishing refused");
      await screenshot(page, `admin-publish-refused-${width}`);

      // The store lists no draft, and its page is not found.
      await visitor.goto(`${t.server.url}/`);
      await visitor
        .getByRole("link", { name: /Starter Kit \(demo\)/ })
        .first()
        .waitFor();
      expect(await visitor.locator("main").innerText()).not.toContain("Font Bundle");
      await fitsAndAxeClean(visitor, "store");
      const draftPage = await visitor.goto(`${t.server.url}/p/font-bundle`);
      expect(draftPage?.status(), "a draft's store page").toBe(404);
      await fitsAndAxeClean(visitor, "a draft's store page");

      const v1 = Buffer.alloc(256 * 1024, "1");
      const first = await upload(page, "fonts.zip", v1);
      expect(first.values.at(-1)).toBe(100);
      expect(first.texts.some((t) => t.startsWith("Uploading fonts.zip"))).toBe(true);
      expect(await page.getByRole("region", { name: "Ready to sell?" }).innerText()).toContain(
        "Everything is in place: publish it to put it in the store.",
      );
      await fitsAndAxeClean(page, "draft with a file");

      // The seller sees the product as a buyer who owns it sees it in the library, and the file
      // downloads from there.
      await page.getByRole("link", { name: "Preview as a buyer" }).click();
      await page.waitForURL(`${t.server.url}/admin/products/font-bundle/preview`);
      await page
        .getByText("Preview: this is what a buyer who owns this product sees in their library.")
        .waitFor();
      await page.getByRole("heading", { name: "Font Bundle" }).waitFor();
      await fitsAndAxeClean(page, "preview as a buyer");
      await screenshot(page, `admin-product-preview-${width}`);
      const previewed = await downloadFrom(page, "Download fonts.zip");
      expect(previewed.bytes.equals(v1)).toBe(true);
      await page.getByRole("link", { name: "Back to the product" }).click();
      await page.waitForURL(`${t.server.url}/admin/products/font-bundle`);

      await page.getByRole("button", { name: "Publish", exact: true }).click();
      await page.getByText("Published: the product is in the store.").waitFor();
      await fitsAndAxeClean(page, "published product");
      // Unpublishing asks first, and a dismissed question changes nothing.
      page.once("dialog", (dialog) => void dialog.dismiss());
      await page.getByRole("button", { name: "Unpublish" }).click();
      await page.getByRole("button", { name: "Unpublish" }).waitFor();
      page.once("dialog", (dialog) => void dialog.accept());
      await page.getByRole("button", { name: "Unpublish" }).click();
      await page.getByText("Unpublished: it is gone from the store").waitFor();
      await fitsAndAxeClean(page, "unpublished product");
      await page.getByRole("button", { name: "Publish", exact: true }).click();
      await page.getByText("Published: the product is in the store.").waitFor();

      // Published with a file, it is in the store and on sale.
      await visitor.goto(`${t.server.url}/`);
      await visitor
        .getByRole("link", { name: /Font Bundle/ })
        .first()
        .waitFor();
      await fitsAndAxeClean(visitor, "store with the new product");
      await visitor.goto(`${t.server.url}/p/font-bundle`);
      await visitor.getByRole("button", { name: "Buy now" }).waitFor();
      await fitsAndAxeClean(visitor, "the new product's store page");
      await visitorContext.close();

      const grant = await cli(["grant", "fan@example.com", "font-bundle"], t.server.env);
      expect(grant.code, grant.stderr).toBe(0);

      const v2 = Buffer.alloc(3 * 1024 * 1024, "2");
      const second = await upload(page, "fonts.zip", v2);
      expect(second.values.at(-1)).toBe(100);
      const rows = page.getByRole("region", { name: "Files" }).locator("tbody tr");
      await expect.poll(() => rows.count()).toBe(2);
      expect(await rows.nth(0).innerText()).toMatch(
        /fonts\.zip[\s\S]*v2[\s\S]*3\.0 MB[\s\S]*delivered/,
      );
      expect(await rows.nth(1).innerText()).toMatch(/v1[\s\S]*retired/);
      await fitsAndAxeClean(page, "product with two versions");
      await screenshot(page, `admin-product-files-${width}`);

      // What the preview shows now, to hold the buyer's library to.
      await page.goto(`${t.server.url}/admin/products/font-bundle/preview`);
      const previewCard = page.locator("section.card", {
        has: page.getByRole("heading", { name: "Font Bundle" }),
      });
      const preview = await previewCard.innerText();
      expect(preview).toContain("version 2");
      await fitsAndAxeClean(page, "preview of the new version");
      await context.close();

      const buyerContext = await t.browser.newContext({
        acceptDownloads: true,
        viewport: { width, height: 800 },
      });
      const buyer = await buyerContext.newPage();
      buyer.setDefaultTimeout(PATIENCE_MS);
      await buyer.goto(`${t.server.url}/library`);
      await signInFromOutbox(buyer, t.server.url, "fan@example.com");
      await buyer.getByRole("heading", { name: "Font Bundle" }).waitFor();
      expect(await buyer.getByText("version 2").count()).toBe(1);
      // Exactly what the seller previewed.
      const card = buyer.locator("section.card", {
        has: buyer.getByRole("heading", { name: "Font Bundle" }),
      });
      expect(await card.innerText(), "the library as the preview showed it").toBe(preview);
      await fitsAndAxeClean(buyer, "library");
      const download = await downloadFrom(buyer, "Download fonts.zip");
      expect(download.bytes.equals(v2)).toBe(true);
      await buyer.goto(`${t.server.url}/dev/outbox`);
      await fitsAndAxeClean(buyer, "outbox");
      await buyerContext.close();
    });

    it("tells a signed-in buyer that the seller pages are not theirs", async () => {
      const context = await t.browser.newContext({ viewport: { width, height: 800 } });
      const page = await context.newPage();
      await signInFromOutbox(page, t.server.url, "visitor@example.com");
      const res = await page.goto(`${t.server.url}/admin/products`);
      expect(res?.status()).toBe(403);
      expect(await page.getByRole("alert").innerText()).toContain(
        "visitor@example.com is not a seller account",
      );
      await fitsAndAxeClean(page, "403 seller page");
      await context.close();
    });
  });
}

describe.skipIf(!CHROMIUM)("a seller uploading straight to S3 from the browser", () => {
  const corsOrigins: string[] = [];
  let s3: Awaited<ReturnType<typeof startS3Server>>;
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    s3 = await startS3Server({ corsOrigins });
    server = await startServer(["--demo"], {
      STORAGE_URL: "s3://bucket",
      S3_ENDPOINT: s3.url,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
    });
    corsOrigins.push(server.url);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await s3?.close();
  });

  it("sends a large file in presigned parts and a small one in one presigned PUT, never through the app", async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(`${server.url}/auth/login`);
    await signInFromOutbox(page, server.url, "seller@example.com");
    await page.goto(`${server.url}/admin/products/starter-kit`);

    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    const shown = await upload(page, "assets.zip", big);
    expect(shown.values.at(-1)).toBe(100);
    expect(shown.texts.some((t) => /Uploading assets\.zip: \d/.test(t))).toBe(true);
    const parts = s3.log.filter((e) => e.method === "PUT" && /partNumber=/.test(e.url));
    expect(parts.map((e) => [e.auth, e.status])).toEqual([
      ["query", 200],
      ["query", 200],
      ["query", 200],
    ]);

    await upload(page, "guide.pdf", Buffer.from("%PDF-1.7 small guide"));
    const single = s3.log.filter(
      (e) => e.method === "PUT" && e.url.includes("X-Amz-Signature") && !/partNumber=/.test(e.url),
    );
    expect(single.map((e) => e.status)).toEqual([200]);
    const rows = page.getByRole("region", { name: "Files" }).locator("tbody tr");
    expect(await rows.allInnerTexts()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/assets\.zip[\s\S]*20 MB/),
        expect.stringMatching(/guide\.pdf/),
      ]),
    );
    await context.close();

    expect((await cli(["grant", "big@example.com", "starter-kit"], server.env)).code).toBe(0);
    const buyerContext = await browser.newContext({ acceptDownloads: true });
    const buyer = await buyerContext.newPage();
    await buyer.goto(`${server.url}/auth/login`);
    await signInFromOutbox(buyer, server.url, "big@example.com");
    await buyer.goto(`${server.url}/library`);
    const download = await downloadFrom(buyer, "Download assets.zip");
    expect(download.bytes.equals(big)).toBe(true);
    await buyerContext.close();
  });
});
