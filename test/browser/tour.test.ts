import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { describe, it } from "vitest";
import { CHROMIUM, signInFromOutbox, useServerAndBrowser } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";

const TOUR = resolve(import.meta.dirname, "../../docs/tour");

/**
 * `npm run tour`: the short screenshot tour in docs/tour.md, taken from the real app (the offline
 * demo, the local Stripe, Chromium) at a phone's and a desktop's width. Skipped by `npm test`.
 */
describe.skipIf(!CHROMIUM || !process.env.TOUR)("the screenshot tour", () => {
  const t = useServerAndBrowser(["--demo"]);

  it("walks a buyer and a seller through the shop", async () => {
    const steps: { name: string; title: string; text: string }[] = [];
    const shoot = async (page: Page, name: string, title: string, text: string) => {
      await page.screenshot({ path: resolve(TOUR, `${name}.png`), fullPage: true });
      steps.push({ name, title, text });
    };
    const phone = await t.browser.newContext({ viewport: { width: 375, height: 740 } });
    const buyer = await phone.newPage();
    buyer.setDefaultTimeout(PATIENCE_MS);
    await buyer.goto(`${t.server.url}/p/starter-kit`);
    await shoot(buyer, "1-product", "The product page", "What the buyer gets, with sizes.");
    await buyer.getByRole("button", { name: "Buy now" }).click();
    await buyer.getByLabel("Card number").waitFor();
    await buyer.getByLabel("Email").fill("buyer@example.com");
    await buyer.getByLabel("Card number").fill("4242 4242 4242 4242");
    await shoot(buyer, "2-checkout", "Checkout", "The local Stripe's page, offline (4242 pays).");
    await buyer.getByRole("button", { name: /^Pay / }).click();
    await buyer.getByText("Payment received. Your files are ready.").waitFor();
    await shoot(
      buyer,
      "3-success",
      "Paid",
      "The files at once, with the order's date, price and reference.",
    );
    await buyer.goto(`${t.server.url}/auth/login`);
    await signInFromOutbox(buyer, t.server.url, "buyer@example.com");
    await buyer.goto(`${t.server.url}/library`);
    await shoot(
      buyer,
      "4-library",
      "The library",
      "Everything the buyer owns, with each file's SHA-256.",
    );
    await buyer.goto(`${t.server.url}/dev/outbox`, { waitUntil: "load" });
    await buyer.waitForTimeout(500); // the mails' frames paint after the page's load
    await shoot(buyer, "5-outbox", "The outbox", "Offline, each mail as it will look.");

    const desktop = await t.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const seller = await desktop.newPage();
    seller.setDefaultTimeout(PATIENCE_MS);
    await seller.goto(`${t.server.url}/auth/login`);
    await signInFromOutbox(seller, t.server.url, "seller@example.com");
    await seller.goto(`${t.server.url}/admin`);
    await shoot(
      seller,
      "6-dashboard",
      "The seller's dashboard",
      "Sales, downloads and what needs a look.",
    );
    await seller.goto(`${t.server.url}/admin/orders`);
    await shoot(seller, "7-orders", "Orders", "Each order with its buyer, amount and state.");
    await seller.goto(`${t.server.url}/admin/products/new`);
    await seller.getByLabel("Name").fill("Icon Pack");
    await seller.getByLabel("Address").fill("icon-pack");
    await seller.getByLabel("Price", { exact: true }).fill("24.00");
    await seller.getByRole("button", { name: "Create product" }).click();
    await seller.getByText("Ready to sell?").waitFor();
    await shoot(
      seller,
      "8-draft",
      "A new product",
      "A draft until it can be delivered: the page says what is missing.",
    );

    // The shop's own name, support address, time zone and logo, drawn here as a small PNG.
    await seller.goto(`${t.server.url}/admin/settings`);
    const logo = await seller.evaluate(() => {
      const canvas = document.createElement("canvas");
      canvas.width = 112;
      canvas.height = 56;
      const g = canvas.getContext("2d") as CanvasRenderingContext2D;
      g.fillStyle = "#4338ca";
      g.beginPath();
      g.roundRect(0, 0, 112, 56, 12);
      g.fill();
      g.fillStyle = "#ffffff";
      g.font = "bold 34px sans-serif";
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.fillText("PF", 56, 30);
      return canvas.toDataURL("image/png").split(",")[1] as string;
    });
    await seller.getByLabel("Shop name").fill("Pixel Forge");
    await seller.getByLabel("Support email").fill("help@pixelforge.example");
    await seller.getByLabel("Time zone").selectOption("Europe/Berlin");
    await seller.getByRole("button", { name: "Save shop settings" }).click();
    await seller.getByText("Shop settings saved.").waitFor();
    await seller.locator('input[name="logo"]').setInputFiles({
      name: "logo.png",
      mimeType: "image/png",
      buffer: Buffer.from(logo, "base64"),
    });
    await seller.getByRole("button", { name: "Upload logo" }).click();
    await seller.getByText("Logo saved.").waitFor();
    await shoot(
      seller,
      "9-settings",
      "Shop settings",
      "The shop's name, logo, support address and time zone, on every page and in every mail.",
    );

    writeFileSync(
      resolve(TOUR, "../tour.md"),
      [
        "# A short tour",
        "",
        "Made by `npm run tour` from the real app: the offline demo (`npm start`), its local Stripe and",
        "Chromium, a buyer on a phone (375 px) and the seller on a desktop (1280 px).",
        "",
        ...steps.flatMap((s) => [
          `## ${s.title}`,
          "",
          s.text,
          "",
          `![${s.title}](tour/${s.name}.png)`,
          "",
        ]),
      ].join("\n"),
    );
    await phone.close();
    await desktop.close();
  });
});
