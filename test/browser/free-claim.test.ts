import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, downloadFrom, screenshot, useServerAndBrowser } from "../support/browser.ts";
import { cli } from "../support/cli.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/**
 * Issue 16, point 1: a free product for someone not signed in. They enter an email, the mail
 * (read in the offline outbox, which the page points to) proves the address, and one click on
 * the page its link opens hands over the file. At a phone's and a desktop's width.
 */
describe.skipIf(!CHROMIUM)("a free product claimed with an email, in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);

  it.each([
    [375, 740],
    [1280, 800],
  ])(
    "at %i px: enter an email, open the mail, one click, the file downloads",
    async (width, height) => {
      const env = t.server.env;
      const slug = `free-guide-${width}`;
      const email = `reader-${width}@example.com`;
      const add = ["product", "add", "--slug", slug, "--name", "Free Guide", "--kind", "free"];
      expect((await cli(add, env)).code).toBe(0);
      const file = join(t.server.dir, "guide.txt");
      writeFileSync(file, "a free guide\n");
      expect((await cli(["asset", "add", slug, file], env)).code).toBe(0);

      const context = await t.browser.newContext({
        viewport: { width, height },
        acceptDownloads: true,
      });
      const page = await context.newPage();
      page.setDefaultTimeout(PATIENCE_MS);
      await page.goto(`${t.server.url}/p/${slug}`);
      await page.getByLabel("Your email").fill(email);
      await screenshot(page, `${width}-free-claim`);
      await page.getByRole("button", { name: "Email me the files" }).click();
      expect(await page.getByRole("status").innerText()).toContain(
        `Check your email: we sent a link to ${email}.`,
      );
      expect(await accessibilityViolations(page)).toEqual([]);

      await page.getByRole("link", { name: "Open the outbox" }).click();
      const mail = page
        .locator("article")
        .filter({ hasText: "Your free copy of Free Guide" })
        .filter({ hasText: `To ${email}` });
      await expect.poll(() => mail.count()).toBe(1);
      const [tab] = await Promise.all([
        context.waitForEvent("page"),
        mail.frameLocator("iframe").getByRole("link", { name: "Get Free Guide" }).click(),
      ]);
      await tab.getByRole("heading", { name: "Get Free Guide" }).waitFor();
      expect(await accessibilityViolations(tab)).toEqual([]);
      await tab.getByRole("button", { name: "Get my files" }).click();
      await tab.getByRole("heading", { name: "Free Guide" }).waitFor();
      const download = await downloadFrom(tab, "Download guide.txt");
      expect(download.filename).toBe("guide.txt");
      expect(download.bytes.toString()).toBe("a free guide\n");
      expect(
        await tab.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      ).toBe(true);
      await screenshot(tab, `${width}-free-claimed`);
      await context.close();
    },
  );
});
