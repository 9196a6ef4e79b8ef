import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHROMIUM, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { cli } from "../support/cli.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/** Issue 16, point 9: the link form offers only the chosen product's files. */
describe.skipIf(!CHROMIUM)("the seller's link form, in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);

  it("lists the files of the product chosen, and no other product's", async () => {
    const env = t.server.env;
    const add = ["product", "add", "--slug", "fonts", "--name", "Fonts", "--price", "900"];
    expect((await cli(add, env)).code).toBe(0);
    const file = join(t.server.dir, "fonts.zip");
    writeFileSync(file, "fonts");
    expect((await cli(["asset", "add", "fonts", file], env)).code).toBe(0);

    const context = await t.browser.newContext({ viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(`${t.server.url}/auth/login`);
    await signInFromOutbox(page, t.server.url, "seller@example.com");
    await page.goto(`${t.server.url}/admin/tokens`);
    const offered = () =>
      page
        .locator("#link-file option")
        .evaluateAll((options) =>
          options
            .filter((o) => !(o.parentElement as HTMLOptGroupElement).disabled)
            .map((o) => o.textContent?.trim()),
        );
    await page.getByLabel("Product").selectOption("fonts");
    expect(await offered()).toEqual(["All of the product's files", "fonts.zip (v1)"]);
    await page.getByLabel("Product").selectOption("starter-kit");
    expect(await offered()).not.toContain("fonts.zip (v1)");
    expect((await offered()).length).toBeGreaterThan(1);
    await context.close();
  });
});
