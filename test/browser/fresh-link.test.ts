import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CHROMIUM,
  demoFileSha256,
  downloadFrom,
  screenshot,
  useServerAndBrowser,
} from "../support/browser.ts";
import { cli } from "../support/cli.ts";

/**
 * A buyer's emailed link has expired: in a real Chromium at 375 px against a real
 * `tollgate serve --demo`, they ask for a fresh one by keyboard, read it in /dev/outbox, and
 * download the file with it.
 */
describe.skipIf(!CHROMIUM)("a fresh link for an expired one, in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);

  it("the expired page offers a fresh link; it arrives in the outbox and downloads the file", async () => {
    const email = "late-buyer@example.com";
    const granted = await cli(["grant", email, "starter-kit"], t.server.env);
    expect(granted.code, granted.stderr).toBe(0);
    const made = await cli(["token", email, "starter-kit", "--expires", "2s"], t.server.env);
    expect(made.code, made.stderr).toBe(0);
    const oldLink = /http\S+\/d\/tgd_[\w-]{43}/.exec(made.stdout)?.[0] as string;
    expect(oldLink).toBeDefined();
    const oldToken = oldLink.slice(oldLink.lastIndexOf("/") + 1);
    await new Promise((r) => setTimeout(r, 2_500));

    const context = await t.browser.newContext({
      acceptDownloads: true,
      viewport: { width: 375, height: 800 },
    });
    const page = await context.newPage();
    const opened = await page.goto(oldLink);
    expect(opened?.status()).toBe(410);
    await page.getByRole("heading", { name: "This download link has expired" }).waitFor();
    expect(await page.getByRole("link", { name: /^Download / }).count()).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await screenshot(page, "fresh-link-expired");

    // Keyboard only: Tab to the email field, type, Tab to the button, Enter.
    const emailField = page.getByLabel("Email");
    for (
      let i = 0;
      i < 20 && !(await emailField.evaluate((el) => el === document.activeElement));
      i++
    )
      await page.keyboard.press("Tab");
    expect(await emailField.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type(email.toUpperCase());
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe(
      "Send me a fresh link",
    );
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    expect(await page.getByRole("status").innerText()).toContain(
      "has access, a fresh link is on its way to it. Links expire after 24 hours.",
    );
    await screenshot(page, "fresh-link-sent");

    // Offline, the page points to the outbox, where the mail shows as it will look; its button
    // is the fresh link.
    await page.getByRole("link", { name: "Open the outbox" }).click();
    const mail = page
      .locator("article")
      .filter({ hasText: "Your fresh download link for Starter Kit (demo)" });
    await expect.poll(() => mail.count()).toBe(1);
    expect(await mail.innerText()).toContain(`To ${email}`);
    const button = mail.frameLocator("iframe").getByRole("link", { name: "Download your files" });
    const freshLink = await button.getAttribute("href");
    expect(freshLink).toMatch(/\/d\/tgd_[\w-]{43}$/);
    expect(freshLink).not.toBe(oldLink);

    // Like a webmail, the mail's link opens a new tab.
    const [tab] = await Promise.all([context.waitForEvent("page"), button.click()]);
    await tab.getByRole("heading", { name: "Starter Kit (demo)" }).waitFor();
    expect(tab.url()).toBe(freshLink);
    const download = await downloadFrom(tab, "Download starter-kit-readme.txt");
    expect(download.filename).toBe("starter-kit-readme.txt");
    const bytes = download.bytes;
    const uploaded = demoFileSha256(t.server.output());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(uploaded);

    // The server logged what happened, never the link's token.
    const logged = t.server
      .output()
      .split("\n")
      .filter((l) => /^\S+ (info|warn|error)\s+fresh link/.test(l));
    expect(logged).toEqual([expect.stringContaining("fresh link sent")]);
    expect(t.server.output()).not.toContain(oldToken);
    await context.close();
  });
});
