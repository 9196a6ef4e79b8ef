/**
 * The seller page's resumable upload (decision 0025) in Chromium, straight to the local S3 test
 * server: a 40 MiB file goes in 8 MiB parts, each to a URL signed as it starts; the tab is closed
 * in the middle; choosing the same file again offers to resume, and only the missing parts go.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { CHROMIUM, launchBrowser, signInFromOutbox } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";
import { startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../support/s3-server.ts";
import { type RunningServer, startServer } from "../support/server.ts";

const MiB = 1024 * 1024;

describe.skipIf(!CHROMIUM)("a seller's interrupted upload, resumed from the page", () => {
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

  it("offers to resume after a closed tab and sends only the missing parts", async () => {
    const bytes = Buffer.alloc(40 * MiB);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32BE(i ^ 0x5a5a5a5a, i);
    const dir = mkdtempSync(join(tmpdir(), "tollgate-page-upload-"));
    const file = join(dir, "course.zip");
    writeFileSync(file, bytes);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));

    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(`${server.url}/auth/login`);
    await signInFromOutbox(page, server.url, "seller@example.com");
    await page.goto(`${server.url}/admin/products/starter-kit`);
    // Parts 3 to 5 never get through: the tab is closed while they are on their way.
    await page.route(/partNumber=[345]&|partNumber=[345]$/, () => {});
    await page.getByLabel("File", { exact: true }).setInputFiles(file);
    await page.getByRole("button", { name: "Upload" }).click();
    const deadline = Date.now() + PATIENCE_MS;
    while ((s3.pendingUploads()[0]?.parts ?? 0) < 2) {
      if (Date.now() > deadline) throw new Error("two parts never arrived");
      await new Promise((r) => setTimeout(r, 20));
    }
    await page.close();
    expect(s3.pendingUploads()).toEqual([expect.objectContaining({ parts: 2 })]);

    const logFrom = s3.log.length;
    const again = await context.newPage();
    again.setDefaultTimeout(PATIENCE_MS);
    await again.goto(`${server.url}/admin/products/starter-kit`);
    const offered: string[] = [];
    again.on("dialog", (dialog) => {
      offered.push(dialog.message());
      void dialog.accept();
    });
    const loaded = again.waitForEvent("load");
    await again.getByLabel("File", { exact: true }).setInputFiles(file);
    await again.getByRole("button", { name: "Upload" }).click();
    await loaded;
    await again.getByText("File uploaded. Buyers of this product get it from now on.").waitFor();
    expect(offered).toEqual([
      expect.stringMatching(/course\.zip was interrupted at 40% \(2 of 5 parts\)\. Resume it/),
    ]);
    const parts = s3.log
      .slice(logFrom)
      .filter((e) => e.method === "PUT" && /partNumber=/.test(e.url));
    expect(parts.map((e) => new URL(e.url, s3.url).searchParams.get("partNumber")).sort()).toEqual([
      "3",
      "4",
      "5",
    ]);
    expect(s3.pendingUploads()).toEqual([]);
    const rows = again.getByRole("region", { name: "Files" }).locator("tbody tr");
    expect(await rows.allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringMatching(/course\.zip[\s\S]*40 MB/)]),
    );
    await context.close();
  });
});
