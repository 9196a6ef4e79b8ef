import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import { CHROMIUM, screenshot, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { cli } from "../support/cli.ts";
import { PATIENCE_MS } from "../support/patience.ts";

/**
 * Every page a buyer or a seller can reach, at 375 px: it fits the screen, has one heading, a
 * label on every field, no JSON or stack trace, no WCAG 2 AA violation axe-core can find (contrast,
 * names, roles), and every control in it is reachable with Tab.
 */
describe.skipIf(!CHROMIUM)("every page at 375 px and by keyboard", () => {
  const t = useServerAndBrowser(["--demo"]);

  async function check(page: Page, name: string, path: string, status = 200) {
    const res = await page.goto(new URL(path, t.server.url).toString());
    expect(res?.status(), `${name}: status`).toBe(status);
    const facts = await page.evaluate(() => {
      const visible = (el: Element) => (el as HTMLElement).checkVisibility();
      const controls = [...document.querySelectorAll("input, select, textarea")].filter(
        (el) => (el as HTMLInputElement).type !== "hidden" && visible(el),
      );
      return {
        pageWidth: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        headings: document.querySelectorAll("h1").length,
        unlabelled: controls
          .filter(
            (el) =>
              !(el as HTMLInputElement).labels?.length &&
              !el.getAttribute("aria-label") &&
              !el.getAttribute("aria-labelledby"),
          )
          .map((el) => el.outerHTML),
        text: document.body.innerText,
        focusable: [
          ...document.querySelectorAll(
            "main a[href], main button, main input, main select, main textarea, main summary, main [tabindex='0']",
          ),
        ].filter((el) => visible(el) && (el as HTMLInputElement).type !== "hidden").length,
      };
    });
    expect(facts.pageWidth, `${name}: fits 375 px`).toBeLessThanOrEqual(facts.viewport);
    expect(facts.headings, `${name}: one h1`).toBe(1);
    expect(facts.unlabelled, `${name}: labels`).toEqual([]);
    expect(facts.text, `${name}: no JSON`).not.toMatch(/\{"code"|"message":/);
    expect(facts.text, `${name}: no stack`).not.toMatch(/\n\s+at \S+ \(/);
    expect(await accessibilityViolations(page), `${name}: WCAG 2 AA`).toEqual([]);

    // Tab from the top: the shop's skip link comes first (the local Stripe's page has none, like
    // Stripe's), then every control in the page, in order.
    await page.locator("body").focus();
    await page.keyboard.press("Tab");
    if (!name.startsWith("local-"))
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim()), name).toBe(
        "Skip to content",
      );
    const reached = new Set<string>();
    for (let i = 0; i < 80 && reached.size < facts.focusable; i++) {
      await page.keyboard.press("Tab");
      const id = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el?.closest("main")) return null;
        el.setAttribute("data-reached", "");
        return `${el.tagName}:${[...document.querySelectorAll("main *")].indexOf(el)}`;
      });
      if (id) reached.add(id);
    }
    const missed = await page.evaluate(() =>
      [
        ...document.querySelectorAll(
          "main a[href], main button, main input, main select, main textarea, main summary",
        ),
      ]
        .filter(
          (el) =>
            (el as HTMLElement).checkVisibility() &&
            !el.hasAttribute("data-reached") &&
            (el as HTMLInputElement).type !== "hidden",
        )
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    expect(missed, `${name}: every control reachable by Tab`).toEqual([]);
    await screenshot(page, `375-${name}`);
  }

  it("buyer pages and every denial", async () => {
    expect((await cli(["grant", "owner@example.com", "starter-kit"], t.server.env)).code).toBe(0);
    const token = /\/d\/(tgd_[\w-]+)/.exec(
      (await cli(["token", "owner@example.com", "starter-kit", "--expires", "24h"], t.server.env))
        .stdout,
    )?.[1];
    const expired = /\/d\/(tgd_[\w-]+)/.exec(
      (await cli(["token", "owner@example.com", "starter-kit", "--expires", "1s"], t.server.env))
        .stdout,
    )?.[1];
    expect(token && expired).toBeTruthy();

    const context = await t.browser.newContext({ viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await check(page, "storefront", "/");
    await check(page, "product", "/p/starter-kit");
    await check(page, "sign-in", "/auth/login");
    await check(page, "token", `/d/${token}`);
    await check(page, "token-expired", `/d/${expired}`, 410);
    await check(page, "error-404", "/no/such/page", 404);
    await check(page, "error-410", "/d/tgd_not-a-real-link", 410);
    await check(page, "error-401", "/download/starter-kit/ast_x", 401);
    await check(page, "sign-in-spent-link", "/auth/callback?token=nonsense", 410);
    expect(await page.getByRole("alert").innerText()).toMatch(/expired or was already used/);

    await page.goto(`${t.server.url}/auth/login`);
    await signInFromOutbox(page, t.server.url, "stranger@example.com");
    await check(page, "library-empty", "/library");
    const assetId = /\/d\/[^/]+\/(ast_\w+)/.exec(
      (await (await page.request.get(`${t.server.url}/d/${token}`)).text()) ?? "",
    )?.[1];
    await check(page, "error-403", `/download/starter-kit/${assetId}`, 403);
    // A refused download leads to the product's page, where it can be bought.
    await page.getByRole("link", { name: "See the product and buy it" }).click();
    await page.getByRole("button", { name: "Buy now" }).waitFor();

    await page.goto(`${t.server.url}/auth/login`);
    await signInFromOutbox(page, t.server.url, "owner@example.com");
    await check(page, "library", "/library");

    // The purchase pages, as a guest: the local Stripe's checkout, then the paid success page.
    await context.clearCookies();
    await page.goto(`${t.server.url}/p/starter-kit`);
    await page.getByRole("button", { name: "Buy now" }).click();
    await page.getByLabel("Card number").waitFor();
    const checkoutUrl = new URL(page.url());
    await check(page, "local-checkout", checkoutUrl.toString());
    await page.getByLabel("Email").fill("guest@example.com");
    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.getByText("Payment received. Your files are ready.").waitFor();
    const success = new URL(page.url());
    await check(page, "checkout-success", `${success.pathname}${success.search}`);

    const limited = await t.browser.newContext({ viewport: { width: 375, height: 740 } });
    const flood = await limited.newPage();
    // Past the limit the sign-in form comes back with the reason, ready for the next try.
    for (let i = 0; i < 8; i++) {
      await flood.goto(`${t.server.url}/auth/login`);
      await flood.getByLabel("Email").fill("flood@example.com");
      await flood.getByRole("button", { name: "Email me a sign-in link" }).click();
      if ((await flood.getByRole("alert").count()) > 0) break;
    }
    expect(await flood.getByRole("alert").innerText()).toMatch(/Too many sign-in requests/);
    expect(await flood.getByLabel("Email").inputValue()).toBe("flood@example.com");
    await limited.close();
    await context.close();
  });

  it("seller pages", async () => {
    // A licence key with two machines, for the licence pages.
    const env = t.server.env;
    const on = ["product", "update", "starter-kit", "--license", "on", "--activation-limit", "3"];
    expect((await cli(on, env)).code).toBe(0);
    expect((await cli(["grant", "licensee@example.com", "starter-kit"], env)).code).toBe(0);
    const listed = await cli(["license", "list", "--email", "licensee@example.com", "--json"], env);
    const [license] = JSON.parse(listed.stdout).licenses as { id: string; key: string }[];
    for (const [fingerprint, label] of [
      ["c9f0f895fb98ab9159f51fd0297e236d-workstation", "Studio workstation (macOS 15)"],
      ["45c48cce2e2d7fbdea1afc51c7c6ad26", ""],
    ])
      expect(
        (
          await fetch(`${t.server.url}/api/v1/licenses/activate`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ key: license?.key, fingerprint, ...(label ? { label } : {}) }),
          })
        ).status,
      ).toBe(200);

    const context = await t.browser.newContext({ viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    page.setDefaultTimeout(PATIENCE_MS);
    await page.goto(`${t.server.url}/auth/login`);
    await signInFromOutbox(page, t.server.url, "seller@example.com");
    for (const [name, path] of [
      ["admin-dashboard", "/admin"],
      ["admin-products", "/admin/products"],
      ["admin-new-product", "/admin/products/new"],
      ["admin-product", "/admin/products/starter-kit"],
      ["admin-orders", "/admin/orders"],
      ["admin-customers", "/admin/customers"],
      ["admin-customer", "/admin/customers?email=licensee%40example.com"],
      ["admin-licenses", "/admin/licenses"],
      ["admin-license", `/admin/licenses/${license?.id}`],
      ["admin-tokens", "/admin/tokens"],
      ["admin-downloads", "/admin/downloads"],
      ["admin-webhooks", "/admin/webhooks"],
      ["admin-settings", "/admin/settings"],
      ["outbox", "/dev/outbox"],
    ] as const)
      await check(page, name, path);
    await context.close();
  });
});
