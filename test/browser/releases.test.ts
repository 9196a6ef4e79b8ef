import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { readZip, sha256 } from "../http/order-context-support.ts";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, screenshot, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";

/**
 * Issue 17's releases in a real Chromium against `tollgate serve --demo`, at desktop and phone
 * widths: a seller publishes a release with notes on its page, a past buyer (who had 1.0) opens
 * the library, reads the notes, downloads only what changed, and the zip's files have the
 * manifest's SHA-256s.
 */
describe.skipIf(!CHROMIUM)("releases in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);
  const adminToken = () =>
    /Admin token \(from data\/secrets\.json\): (\S+)/.exec(t.server.output())?.[1] ?? "";
  const admin = (path: string, init: { method?: string; json?: unknown; body?: string } = {}) =>
    fetch(`${t.server.url}${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${adminToken()}`,
        ...(init.json !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : (init.body ?? null),
    });
  const upload = async (slug: string, filename: string, body: string) =>
    expect(
      (
        await admin(`/api/admin/products/${slug}/assets?filename=${filename}`, {
          method: "POST",
          body,
        })
      ).status,
    ).toBe(201);

  async function fitsAndIsAccessible(page: Page, width: number) {
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      width,
    );
  }

  for (const width of [1280, 375]) {
    it(`at ${width} px: the seller publishes 1.1 with notes, a past buyer downloads only what changed`, async () => {
      const slug = `brush-pack-${width}`;
      const buyerEmail = `past-${width}@example.com`;
      expect(
        (
          await admin("/api/admin/products", {
            method: "POST",
            json: { slug, name: "Brush Pack", price: { amount: 900, currency: "usd" } },
          })
        ).status,
      ).toBe(201);
      await upload(slug, "brushes.abr", "brushes, first cut ".repeat(50));
      await upload(slug, "guide.pdf", "the guide ".repeat(80));
      expect(
        (
          await admin("/api/admin/grants", {
            method: "POST",
            json: { email: buyerEmail, product: slug },
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await admin(`/api/admin/products/${slug}/releases`, {
            method: "POST",
            json: { version: "1.0", notes: "First release." },
          })
        ).status,
      ).toBe(201);
      // Then the seller changes one file and adds another.
      await upload(slug, "brushes.abr", "brushes, second cut ".repeat(60));
      await upload(slug, "textures.zip", "textures ".repeat(70));

      const seller = await t.browser.newContext({ viewport: { width, height: 900 } });
      const page = await seller.newPage();
      await signInFromOutbox(page, t.server.url, "seller@example.com");
      await page.goto(`${t.server.url}/admin/products/${slug}`);
      await page.getByRole("link", { name: "Releases" }).click();
      await page.getByRole("heading", { name: "Releases of Brush Pack" }).waitFor();
      await page.getByLabel("Version").fill("1.1");
      await page.getByLabel("Notes").fill("## What's new\n\n- **Bolder** brushes\n- A texture set");
      await page.getByLabel("Mail every buyer who has access now").check();
      await page.getByRole("button", { name: "Publish release" }).click();
      await page.getByText("Release published: its update mails are on their way").waitFor();
      // The past buyer gets the update mail within seconds: what changed and a download link.
      await expect
        .poll(
          async () =>
            (
              (await (
                await admin(`/api/admin/outbox?to=${encodeURIComponent(buyerEmail)}`)
              ).json()) as { messages: { subject: string; text: string }[] }
            ).messages.find((m) => m.subject === "Brush Pack 1.1 is out")?.text ?? "",
          { timeout: 10_000 },
        )
        .toContain("brushes.abr (changed)");
      // The page counts it once the sender settled it.
      await expect
        .poll(async () => {
          await page.reload();
          return page.locator("#release-1\\.1").textContent();
        })
        .toContain("1 of 1 sent");
      const row = page.locator("#release-1\\.1");
      await expect.poll(() => row.textContent()).toContain("Added");
      expect(await row.textContent()).toContain("Changed");
      await fitsAndIsAccessible(page, width);
      await screenshot(page, `${width}-admin-releases`);
      // The same version again is refused on the page, with what was typed kept.
      await page.getByLabel("Version").fill("1.1");
      await page.getByRole("button", { name: "Publish release" }).click();
      await page.getByRole("alert").getByText("already has a release 1.1").waitFor();
      expect(await page.getByLabel("Version").inputValue()).toBe("1.1");
      await seller.close();

      const manifest = (
        (await (await admin(`/api/admin/products/${slug}/releases`)).json()) as {
          releases: { version: string; files: { filename: string; sha256: string }[] }[];
        }
      ).releases.find((r) => r.version === "1.1");
      const sums = new Map(manifest?.files.map((f) => [f.filename, f.sha256]));

      const buyer = await t.browser.newContext({
        acceptDownloads: true,
        viewport: { width, height: 900 },
      });
      const library = await buyer.newPage();
      await signInFromOutbox(library, t.server.url, buyerEmail);
      await library.goto(`${t.server.url}/library`);
      await library.getByRole("heading", { name: /Current release 1\.1/ }).waitFor();
      await library.getByRole("heading", { name: "What's new" }).waitFor();
      expect(await library.locator("strong", { hasText: "Bolder" }).count()).toBe(1);
      expect(await library.getByLabel("Download only what changed since").inputValue()).toBe("1.0");
      await fitsAndIsAccessible(library, width);
      await screenshot(library, `${width}-library-release`);
      const [download] = await Promise.all([
        library.waitForEvent("download"),
        library.getByRole("button", { name: "Download what changed (zip)" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`${slug}-1.1-changes.zip`);
      const entries = readZip(new Uint8Array(await readFile((await download.path()) as string)));
      expect(entries.map((e) => e.name)).toEqual(["brushes.abr", "textures.zip"]);
      for (const e of entries) expect(sha256(e.bytes), e.name).toBe(sums.get(e.name));
      await buyer.close();
    });
  }
});
