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
import { PATIENCE_MS } from "../support/patience.ts";
import { waitFor } from "../support/stripe.ts";

/**
 * The buyer's journey in a real Chromium against a real `tollgate serve --demo` with its local
 * Stripe: storefront -> product -> Buy -> local checkout with 4242 -> success page -> download.
 */
describe.skipIf(!CHROMIUM)("a buyer in a real browser", () => {
  const t = useServerAndBrowser(["--demo"]);
  let sessionId: string;
  const adminToken = () =>
    /Admin token \(from data\/secrets\.json\): (\S+)/.exec(t.server.output())?.[1] ?? "";

  it("buys the demo with 4242 and downloads it from the success page", async () => {
    const context = await t.browser.newContext({
      acceptDownloads: true,
      viewport: { width: 375, height: 800 },
    });
    const page = await context.newPage();
    await page.goto(t.server.url);
    await screenshot(page, "storefront");
    await page.getByRole("link", { name: "Starter Kit (demo)" }).click();
    await page.getByRole("heading", { name: "Starter Kit (demo)" }).waitFor();
    await screenshot(page, "product");
    await page.getByRole("button", { name: "Buy now" }).click();

    await page.getByLabel("Email").fill("browser@example.com");
    await page.getByLabel("Card number").fill("4000 0000 0000 0002");
    await screenshot(page, "local-checkout");
    await page.getByRole("button", { name: /^Pay / }).click();
    expect(await page.getByRole("alert").innerText()).toContain("Your card was declined.");

    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.waitForURL(/\/checkout\/success\?session_id=cs_/);
    await page
      .getByText("Payment received. Your files are ready.")
      .waitFor({ timeout: PATIENCE_MS });
    await screenshot(page, "checkout-success");

    const download = await downloadFrom(page, "Download starter-kit-readme.txt");
    expect(download.filename).toBe("starter-kit-readme.txt");
    const bytes = download.bytes;
    expect(bytes.toString()).toContain("Tollgate demo download");
    const uploaded = demoFileSha256(t.server.output());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(uploaded);
    sessionId = new URL(page.url()).searchParams.get("session_id") as string;
    await context.close();
  });

  it("later signs in from the emailed link and finds the purchase in the library; a refund then shows a clear page", async () => {
    const context = await t.browser.newContext({ acceptDownloads: true });
    let page = await context.newPage();
    await page.goto(`${t.server.url}/library`);
    await page.getByLabel("Email").fill("browser@example.com");
    await screenshot(page, "sign-in");
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page.getByText("Check your email").waitFor();
    await page.getByRole("link", { name: "Open the outbox" }).click();
    // The mail as it will look, its times in the reader's zone, its button a working link.
    const mail = page.locator("article").first();
    // The deferred script rewrites the time once the page has loaded: wait for it.
    await expect.poll(() => mail.locator("time").innerText()).not.toMatch(/UTC$/);
    const [opened] = await Promise.all([
      context.waitForEvent("page"),
      mail.frameLocator("iframe").getByRole("link", { name: "Sign in" }).click(),
    ]);
    await opened.waitForURL(`${t.server.url}/library`);
    await page.close();
    page = opened;
    await page.getByRole("heading", { name: "Starter Kit (demo)" }).waitFor();
    await screenshot(page, "library");

    const refund = await cli(["local-stripe", "refund", sessionId], t.server.env);
    expect(refund.code, refund.stderr).toBe(0);
    const href = (await page
      .getByRole("link", { name: "Download starter-kit-readme.txt" })
      .getAttribute("href")) as string;
    await waitFor(
      async () =>
        (
          await fetch(`${t.server.url}/api/admin/orders`, {
            headers: { authorization: `Bearer ${adminToken()}` },
          }).then((r) => r.json())
        ).orders.some((o: { status: string }) => o.status === "refunded"),
      "the refund",
    );
    await page.goto(new URL(href, t.server.url).toString());
    await page.getByText("This purchase was refunded").waitFor();
    expect(await page.locator("h1").innerText()).toBe("No access");
    await screenshot(page, "refunded-denial");
    await context.close();
  });
});
