import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { accessibilityViolations } from "../support/axe.ts";
import {
  CHROMIUM,
  downloadFrom,
  screenshot,
  signInFromOutbox,
  useServerAndBrowser,
} from "../support/browser.ts";
import { cli } from "../support/cli.ts";
import { PATIENCE_MS } from "../support/patience.ts";

const LONG_EMAIL = "alexandra.montgomery-whitfield@studio-northwind.example";

/**
 * What a seller must see on a page without scrolling sideways, at any width: in every table the
 * amount and status of each row and its buttons; the current section in the section bar; and a
 * site header of at most two lines. Tables are read by their column headings, so this holds for
 * any table, stacked into cards or not.
 */
async function sellerLayout(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const outside = (el: Element) => {
      const r = el.getBoundingClientRect();
      return r.width === 0 || r.left < 0 || r.right > width;
    };
    const hidden: string[] = [];
    for (const table of document.querySelectorAll("main table:not(.facts)")) {
      const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent?.trim());
      for (const row of table.querySelectorAll("tbody tr")) {
        [...row.children].forEach((cell, i) => {
          const label = (cell as HTMLElement).dataset.label ?? heads[i] ?? "";
          const must = /amount|status|result/i.test(label) && cell.textContent?.trim();
          if (must && outside(cell)) hidden.push(`${label}: ${cell.textContent?.trim()}`);
          for (const button of cell.querySelectorAll("button, .btn"))
            if (outside(button)) hidden.push(`button ${button.textContent?.trim()}`);
        });
      }
    }
    const current = document.querySelector(".admin-nav [aria-current=page]");
    const header = [...document.querySelectorAll("header.site a, header.site button")];
    const lines = new Set(header.map((el) => Math.round(el.getBoundingClientRect().bottom / 12)));
    return {
      hidden,
      currentSection: current ? !outside(current) : "none",
      headerLines: lines.size,
    };
  });
}

/**
 * Every page a buyer or a seller can reach, at 375 px (the seller's at 1280 px too): it fits the
 * screen, has one heading, a label on every field, no JSON or stack trace, no WCAG 2 AA violation
 * axe-core can find (contrast, names, roles), and every control in it is reachable with Tab.
 */
describe.skipIf(!CHROMIUM)("every page at 375 px and by keyboard", () => {
  const t = useServerAndBrowser(["--demo"]);

  async function check(
    page: Page,
    name: string,
    path: string,
    status = 200,
    /** More checks of the page as loaded, before Tab moves its focus (and scrolls). */
    asLoaded?: () => Promise<void>,
  ) {
    const res = await page.goto(new URL(path, t.server.url).toString());
    expect(res?.status(), `${name}: status`).toBe(status);
    await asLoaded?.();
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
    expect(facts.pageWidth, `${name}: fits ${facts.viewport} px`).toBeLessThanOrEqual(
      facts.viewport,
    );
    expect(facts.headings, `${name}: one h1`).toBe(1);
    expect(facts.unlabelled, `${name}: labels`).toEqual([]);
    expect(facts.text, `${name}: no JSON`).not.toMatch(/\{"code"|"message":/);
    expect(facts.text, `${name}: no stack`).not.toMatch(/\n\s+at \S+ \(/);
    expect(await accessibilityViolations(page), `${name}: WCAG 2 AA`).toEqual([]);
    // As loaded: the Tab walk below moves the focus and scrolls.
    await screenshot(page, `${facts.viewport}-${name}`);

    // Tab from the top: the shop's skip link comes first (the local Stripe's page has none, like
    // Stripe's), then every control in the page, in order.
    await page.locator("body").focus();
    await page.keyboard.press("Tab");
    if (!name.startsWith("local-"))
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim()), name).toBe(
        "Skip to content",
      );
    const reached = new Set<string>();
    for (let i = 0; i < 150 && reached.size < facts.focusable; i++) {
      await page.keyboard.press("Tab");
      const id = await page.evaluate(() => {
        const el = document.activeElement;
        // Focus inside a frame (a mail in the outbox) is the frame's own, not a control counted here.
        if (!el?.closest("main") || el.tagName === "IFRAME") return null;
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
            (el as HTMLInputElement).type !== "hidden" &&
            // Tab enters a radio group once; the arrow keys move within it.
            !(
              (el as HTMLInputElement).type === "radio" &&
              document.querySelector(
                `main input[type=radio][name="${(el as HTMLInputElement).name}"][data-reached]`,
              )
            ),
        )
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    expect(missed, `${name}: every control reachable by Tab`).toEqual([]);
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
    const assetId = /\/d\/[^/]+\/(ast_[\w-]+)/.exec(
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

    // A paid order by a customer with a long address, a checkout left open, a download.
    const buyerContext = await t.browser.newContext({ acceptDownloads: true });
    const buyer = await buyerContext.newPage();
    buyer.setDefaultTimeout(PATIENCE_MS);
    await buyer.goto(`${t.server.url}/p/starter-kit`);
    await buyer.getByRole("button", { name: "Buy now" }).click();
    await buyer.getByLabel("Email").fill(LONG_EMAIL);
    await buyer.getByLabel("Card number").fill("4242 4242 4242 4242");
    await buyer.getByRole("button", { name: /^Pay / }).click();
    await buyer.getByText("Payment received. Your files are ready.").waitFor();
    await downloadFrom(buyer, "Download starter-kit-readme.txt");
    await buyer.goto(`${t.server.url}/p/starter-kit`);
    await buyer.getByRole("button", { name: "Buy now" }).click();
    await buyer.getByLabel("Card number").waitFor();
    await buyerContext.close();
    const link = await cli(["token", LONG_EMAIL, "starter-kit", "--expires", "24h"], env);
    expect(link.code).toBe(0);

    const pages = (orderId: string) =>
      [
        ["admin-dashboard", "/admin"],
        ["admin-products", "/admin/products"],
        ["admin-new-product", "/admin/products/new"],
        ["admin-product", "/admin/products/starter-kit"],
        ["admin-orders", "/admin/orders"],
        ["admin-orders-unfinished", "/admin/orders?status=unfinished"],
        ["admin-order", `/admin/orders/${orderId}`],
        ["admin-customers", "/admin/customers"],
        ["admin-customer", `/admin/customers?email=${encodeURIComponent(LONG_EMAIL)}`],
        ["admin-customer-licensee", "/admin/customers?email=licensee%40example.com"],
        ["admin-licenses", "/admin/licenses"],
        ["admin-license", `/admin/licenses/${license?.id}`],
        ["admin-tokens", "/admin/tokens"],
        ["admin-downloads", "/admin/downloads"],
        ["admin-webhooks", "/admin/webhooks"],
        ["admin-settings", "/admin/settings"],
      ] as const;
    for (const width of [375, 1280]) {
      const context = await t.browser.newContext({ viewport: { width, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(PATIENCE_MS);
      await page.goto(`${t.server.url}/auth/login`);
      await signInFromOutbox(page, t.server.url, "seller@example.com");
      await page.goto(`${t.server.url}/admin/orders`);
      const order = await page
        .locator("main a[href^='/admin/orders/ord_']")
        .first()
        .getAttribute("href");
      for (const [name, path] of pages(order?.split("/").at(-1) ?? "")) {
        await check(page, name, path, 200, async () => {
          const layout = await sellerLayout(page);
          expect(layout.hidden, `${name} at ${width} px: in view`).toEqual([]);
          expect(layout.currentSection, `${name} at ${width} px: current section`).toBe(true);
          expect(layout.headerLines, `${name} at ${width} px: header`).toBeLessThanOrEqual(2);
        });
      }
      if (width === 375) await check(page, "outbox", "/dev/outbox");
      await context.close();
    }
  });
});
