import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";
import { waitFor } from "../support/stripe.ts";
import { webhookReceiver } from "../support/webhookReceiver.ts";

async function fitsAndAxeClean(page: Page, name: string) {
  expect(await accessibilityViolations(page), `${name}: WCAG 2 AA`).toEqual([]);
  const { pageWidth, viewport } = await page.evaluate(() => ({
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
  expect(pageWidth, `${name}: fits ${viewport} px`).toBeLessThanOrEqual(viewport);
}

/**
 * Issue 17's outgoing webhooks in a real Chromium against `tollgate serve --demo`, at a desktop's
 * and a phone's width: the seller adds an endpoint from the Webhooks section and sees its secret
 * once, gives access to someone, finds the delivery in the endpoint's log, replays it (the
 * receiver gets the same webhook-id twice), disables and deletes the endpoint.
 */
describe.skipIf(!CHROMIUM)("outgoing webhook endpoints in a real browser", () => {
  const t = useServerAndBrowser(["--demo"], { WEBHOOK_ALLOW_PRIVATE_URLS: "true" });
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  beforeAll(async () => {
    receiver = await webhookReceiver();
  });
  afterAll(() => receiver?.close());

  for (const width of [1280, 375]) {
    it(`at ${width} px: add an endpoint, see a delivery, replay it, disable and delete it`, async () => {
      const path = `/w${width}`;
      const context = await t.browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(PATIENCE_MS);
      page.on("dialog", (d) => d.accept());
      await page.goto(`${t.server.url}/auth/login`);
      await signInFromOutbox(page, t.server.url, "seller@example.com");
      await page.goto(`${t.server.url}/admin/webhooks`);
      await page.getByRole("link", { name: "Outgoing endpoints" }).click();
      await page.getByRole("heading", { name: "Outgoing webhooks" }).waitFor();
      await fitsAndAxeClean(page, "endpoints, none yet");

      await page.getByLabel("URL").fill(receiver.url(path));
      await page.getByLabel(/access\.granted/).check();
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await page.getByRole("heading", { name: "Endpoint added" }).waitFor();
      const secret = await page.getByLabel("Signing secret").inputValue();
      expect(secret).toMatch(/^whsec_/);
      await fitsAndAxeClean(page, "endpoint added");

      // Someone gets access: the endpoint hears of it.
      const granted = await page.request.post(`${t.server.url}/api/admin/grants`, {
        headers: { origin: t.server.url, "content-type": "application/json" },
        data: { email: `hooked${width}@example.com`, product: "starter-kit" },
      });
      expect(granted.status()).toBe(201);
      await waitFor(async () => receiver.at(path).length === 1, "the delivery");

      await page.goto(`${t.server.url}/admin/webhooks/endpoints`);
      // Shown once: the list never shows the secret again.
      expect(await page.content()).not.toContain(secret);
      await page.getByRole("link", { name: receiver.url(path) }).click();
      await expect
        .poll(async () => {
          await page.reload();
          return page.locator("tbody tr", { hasText: "Delivered" }).count();
        })
        .toBe(1);
      expect(await page.getByRole("cell", { name: "200" }).count()).toBe(1);
      await fitsAndAxeClean(page, "delivery log");

      await page.getByRole("button", { name: "Replay" }).click();
      await page.getByText("Replay queued").waitFor();
      await waitFor(async () => receiver.at(path).length === 2, "the replay");
      const [first, second] = receiver.at(path);
      expect(second?.headers["webhook-id"]).toBe(first?.headers["webhook-id"]);
      await expect
        .poll(async () => {
          await page.reload();
          return page.locator("tbody tr", { hasText: "Delivered" }).count();
        })
        .toBe(2);

      await page.getByRole("button", { name: "Disable" }).click();
      await page.getByText("Endpoint disabled").waitFor();
      expect(await page.getByText("Disabled", { exact: true }).count()).toBeGreaterThan(0);
      await fitsAndAxeClean(page, "endpoint disabled");
      await page.getByRole("button", { name: "Delete" }).click();
      await page.getByText("Endpoint deleted.").waitFor();
      expect(await page.getByRole("link", { name: receiver.url(path) }).count()).toBe(0);
      await context.close();
    });
  }
});
