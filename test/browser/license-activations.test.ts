import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, screenshot, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

const ADMIN_TOKEN = "licence-browser-admin-token-0123456789";
const BUYER = "reinstall@example.com";

/** The page fits its width, and the key is whole, on one line, inside the screen. */
async function layoutFacts(page: Page, key: string) {
  return page.evaluate((text) => {
    const code = [...document.querySelectorAll("code")].find((c) => c.textContent === text);
    const range = document.createRange();
    if (code) range.selectNodeContents(code);
    const rects = code ? [...range.getClientRects()] : [];
    return {
      pageWidth: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      keyLines: new Set(rects.map((r) => Math.round(r.top))).size,
      keyInside:
        rects.length > 0 && rects.every((r) => r.left >= 0 && r.right <= window.innerWidth),
    };
  }, key);
}

/**
 * The buyer frees an activation in a real Chromium against `tollgate serve`: a product sold with
 * licence keys (2 machines), the key activated on two machines by the seller's app; the buyer,
 * on a 375 px phone, sees the key and both machines in the library, deactivates one, is told
 * so, and one machine is left; the app then hears the freed one is no longer activated.
 */
describe.skipIf(!CHROMIUM)("a buyer frees a licence activation in a real browser", () => {
  const t = useServerAndBrowser(["--demo"], { ADMIN_TOKEN });

  const api = async (path: string, body: unknown, admin = true) => {
    const res = await fetch(`${t.server.url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  it("sees the key and two machines at 375 px, deactivates one, and one is left", async () => {
    const product = await api("/api/admin/products", {
      slug: "render-plugin",
      name: "Render Plugin",
      price: { amount: 4900, currency: "usd" },
      license: { enabled: true, activationLimit: 2 },
    });
    expect(product.status).toBe(201);
    expect(
      (await api("/api/admin/grants", { email: BUYER, product: "render-plugin" })).status,
    ).toBe(201);
    const listed = await fetch(`${t.server.url}/api/admin/licenses?email=${BUYER}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const key = ((await listed.json()).licenses as { key: string }[])[0]?.key as string;
    expect(key).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
    for (const [fingerprint, label] of [
      ["fp-laptop-7f3a", "Work laptop"],
      ["fp-desktop-91c2", "Home desktop"],
    ])
      expect(
        (await api("/api/v1/licenses/activate", { key, fingerprint, label }, false)).status,
      ).toBe(200);

    const context = await t.browser.newContext({ viewport: { width: 375, height: 740 } });
    const origin = new URL(t.server.url).origin;
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await signInFromOutbox(page, t.server.url, BUYER);
    await page.goto(`${t.server.url}/library`);

    // The key, as text on the page, its standing and both machines.
    const card = page.getByRole("region", { name: "Render Plugin" });
    await card.getByText(key, { exact: true }).waitFor();
    await expect.poll(() => card.getByText("Activated on 2 of 2 machines.").count()).toBe(1);
    expect(await card.getByText("Active", { exact: true }).count()).toBe(1);
    const machines = card.getByRole("list", { name: "Machines using the key for Render Plugin" });
    expect(await machines.getByRole("listitem").count()).toBe(2);
    expect(await machines.innerText()).toMatch(/Work laptop[\s\S]*Home desktop/);
    expect(await machines.innerText()).toMatch(/Activated \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    let facts = await layoutFacts(page, key);
    expect(facts.pageWidth, "fits 375 px").toBeLessThanOrEqual(facts.viewport);
    expect(facts.keyInside, "the key is inside the screen").toBe(true);
    expect(facts.keyLines, "the key on one line").toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);

    // The key is selectable text; Copy puts it on the clipboard.
    const copy = card.getByRole("button", { name: "Copy the licence key for Render Plugin" });
    await copy.click();
    await expect.poll(() => copy.innerText()).toBe("Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    expect(await page.evaluate(() => window.getSelection()?.toString())).toBe(key);
    await screenshot(page, "375-library-licence");

    // Deactivate the laptop (by keyboard, as the button is named after its machine).
    await card.getByRole("button", { name: "Deactivate Work laptop" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/library\?freed=1#licences$/);
    const status = page.getByRole("status");
    expect(await status.innerText()).toContain("Machine deactivated");
    await expect.poll(() => card.getByText("Activated on 1 of 2 machines.").count()).toBe(1);
    expect(await machines.getByRole("listitem").count()).toBe(1);
    expect(await machines.innerText()).toContain("Home desktop");
    expect(await machines.innerText()).not.toContain("Work laptop");
    facts = await layoutFacts(page, key);
    expect(facts.pageWidth, "fits 375 px").toBeLessThanOrEqual(facts.viewport);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, "375-library-licence-freed");

    // The seller's app hears it: the laptop is no longer activated; the desktop still is.
    const laptop = await api(
      "/api/v1/licenses/validate",
      { key, fingerprint: "fp-laptop-7f3a" },
      false,
    );
    expect(laptop.body).toMatchObject({ valid: false, code: "not_activated" });
    const desktop = await api(
      "/api/v1/licenses/validate",
      { key, fingerprint: "fp-desktop-91c2" },
      false,
    );
    expect(desktop.body).toMatchObject({ valid: true, code: "valid" });

    // A key whose access the seller revoked: listed apart, saying so, with nothing to free.
    expect(
      (
        await api("/api/admin/products", {
          slug: "old-plugin",
          name: "Old Plugin",
          price: { amount: 900, currency: "usd" },
          license: { enabled: true },
        })
      ).status,
    ).toBe(201);
    const grant = await api("/api/admin/grants", { email: BUYER, product: "old-plugin" });
    expect((await api(`/api/admin/entitlements/${grant.body.id}/revoke`, {})).status).toBe(200);
    await page.goto(`${t.server.url}/library`);
    const others = page.getByRole("region", { name: "Other licence keys" });
    expect(await others.innerText()).toContain("Old Plugin: licence key");
    expect(await others.innerText()).toContain("Your access to this product has been revoked.");
    expect(await others.getByRole("button", { name: /^Deactivate/ }).count()).toBe(0);
    facts = await layoutFacts(page, key);
    expect(facts.pageWidth, "fits 375 px").toBeLessThanOrEqual(facts.viewport);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, "375-library-licence-revoked");

    // The same page on a desktop.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${t.server.url}/library`);
    facts = await layoutFacts(page, key);
    expect(facts.pageWidth).toBeLessThanOrEqual(facts.viewport);
    expect(facts.keyLines).toBe(1);
    await screenshot(page, "1280-library-licence");
    await context.close();
  });
});
