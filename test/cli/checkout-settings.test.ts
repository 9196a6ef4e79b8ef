import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";

/**
 * Issue 20 from the command line, as a seller runs it: `checkout-settings`, the pricing options of
 * `product add` and `product update`, and `orders --csv`.
 */
describe("tollgate checkout-settings, product pricing options, orders --csv", () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[], extra: Record<string, string> = {}) =>
    cli(args, { ...env, ...extra });
  const pricing = (slug: string) => {
    const db = new Database(join(dir, "t.db"), { readonly: true });
    try {
      return db
        .prepare(
          "select price_amount, tax_code, pwyw_minimum, pwyw_suggested, list_price from products where slug = ?",
        )
        .get(slug);
    } finally {
      db.close();
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-checkout-cli-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      STORAGE_URL: `file:${join(dir, "files")}`,
      PUBLIC_URL: "http://localhost:9999",
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("says how, with examples", async () => {
    const [settings, add, update, orders] = await Promise.all([
      run(["checkout-settings", "--help"]),
      run(["product", "add", "--help"]),
      run(["product", "update", "--help"]),
      run(["orders", "--help"]),
    ]);
    expect(settings.code).toBe(0);
    for (const option of [
      "--automatic-tax <on|off>",
      "--tax-ids <on|off>",
      "--invoices <on|off>",
      "--promotion-codes <on|off>",
      "--prices-include-tax <on|off>",
    ])
      expect(settings.stdout).toContain(option);
    expect(settings.stdout).toContain(
      "$ tollgate checkout-settings --automatic-tax on --tax-ids on",
    );
    for (const help of [add, update]) {
      expect(help.stdout).toContain("--pay-what-you-want <minimum>[:<suggested>]");
      expect(help.stdout).toContain("--fixed-price");
      expect(help.stdout).toContain("--list-price <amount|none>");
      expect(help.stdout).toContain("--tax-code <txcd_...|none>");
    }
    expect(add.stdout).toContain(
      '$ tollgate product add --slug zine --name "Zine" --pay-what-you-want',
    );
    expect(update.stdout).toContain("$ tollgate product update zine --fixed-price");
    expect(orders.stdout).toContain("--csv");
    expect(orders.stdout).toContain("$ tollgate orders --csv > orders.csv");
  });

  it("prints the settings, saying which are the configuration's defaults", async () => {
    const shown = await run(["checkout-settings"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^Automatic tax:\s+off .*\(default: CHECKOUT_AUTOMATIC_TAX\)$/m);
    expect(shown.stdout).toMatch(/^Tax IDs:\s+off .*\(default: CHECKOUT_TAX_ID_COLLECTION\)$/m);
    expect(shown.stdout).toMatch(/^Invoices:\s+off .*\(default: CHECKOUT_INVOICE_CREATION\)$/m);
    expect(shown.stdout).toMatch(
      /^Promotion codes:\s+off .*\(default: CHECKOUT_PROMOTION_CODES\)$/m,
    );
    expect(shown.stdout).toMatch(
      /^Prices include tax:\s+off\s+tax is added to prices as set \(default\)$/m,
    );

    const configured = await run(["checkout-settings"], { CHECKOUT_PROMOTION_CODES: "true" });
    expect(configured.stdout).toMatch(
      /^Promotion codes:\s+on .*\(default: CHECKOUT_PROMOTION_CODES\)$/m,
    );
  });

  it("saves each option and shows it; refuses a bad value and changes nothing", async () => {
    const saved = await run([
      ...["checkout-settings", "--automatic-tax", "on", "--tax-ids", "on"],
      ...["--invoices", "on", "--promotion-codes", "on", "--prices-include-tax", "on"],
    ]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain("Saved.");
    expect(saved.stdout).toMatch(/^Automatic tax:\s+on\s+Stripe Tax computes/m);
    expect(saved.stdout).toContain("tollgate doctor");

    const after = await run(["checkout-settings"]);
    expect(after.stdout).toMatch(
      /^Automatic tax:\s+on\s+Stripe Tax computes and collects tax at checkout$/m,
    );
    expect(after.stdout).toMatch(/^Tax IDs:\s+on\s+business buyers may enter their tax ID/m);
    expect(after.stdout).toMatch(/^Invoices:\s+on\s+Stripe makes an invoice/m);
    expect(after.stdout).toMatch(/^Promotion codes:\s+on\s+buyers may enter a promotion code$/m);
    expect(after.stdout).toMatch(/^Prices include tax:\s+on\s+prices as set include tax$/m);
    expect(after.stdout).not.toContain("default");
    // A saved setting wins over the configuration's default.
    const overridden = await run(["checkout-settings"], { CHECKOUT_AUTOMATIC_TAX: "false" });
    expect(overridden.stdout).toMatch(/^Automatic tax:\s+on /m);

    const one = await run(["checkout-settings", "--promotion-codes", "off"]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^Promotion codes:\s+off\s+no promotion code field$/m);
    expect(one.stdout).toMatch(/^Invoices:\s+on /m);
    const exclusive = await run(["checkout-settings", "--prices-include-tax", "off"]);
    expect(exclusive.stdout).toMatch(
      /^Prices include tax:\s+off\s+tax is added to prices as set$/m,
    );

    const before = (await run(["checkout-settings"])).stdout;
    const [word, mixed, empty] = await Promise.all([
      run(["checkout-settings", "--invoices", "maybe"]),
      run(["checkout-settings", "--automatic-tax", "off", "--tax-ids", "sometimes"]),
      run(["checkout-settings", "--prices-include-tax", ""]),
    ]);
    for (const refused of [word, mixed, empty]) {
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('use "on" or "off"');
      expect(refused.stdout).not.toContain("Saved.");
    }
    expect(word.stderr).toContain("--invoices <on|off>");
    expect(mixed.stderr).toContain("'sometimes' is invalid");
    expect((await run(["checkout-settings"])).stdout).toBe(before);
  });

  it("saves pay what you want, a list price and a tax code, and shows them in product list", async () => {
    const zine = await run([
      ...["product", "add", "--slug", "zine", "--name", "Zine"],
      ...["--pay-what-you-want", "300:800", "--tax-code", "txcd_10000000"],
    ]);
    expect(zine.code, zine.stderr).toBe(0);
    expect(zine.stdout).toContain("pay what you want from $3.00 (suggested $8.00)");
    expect(zine.stdout).toContain("Tax code: txcd_10000000.");
    // Without --price, the suggested amount stands as the price.
    expect(pricing("zine")).toEqual({
      price_amount: 800,
      tax_code: "txcd_10000000",
      pwyw_minimum: 300,
      pwyw_suggested: 800,
      list_price: null,
    });

    const kit = await run([
      ...["product", "add", "--slug", "kit", "--name", "Kit", "--price", "1900"],
      ...["--list-price", "2900"],
    ]);
    expect(kit.code, kit.stderr).toBe(0);
    expect(kit.stdout).toContain("$19.00, was $29.00");

    const list = await run(["product", "list"]);
    expect(list.stdout).toMatch(/TAX CODE/);
    expect(list.stdout).toMatch(
      /^zine\s+Zine\s+one_time\s+pay what you want from \$3\.00 \(suggested \$8\.00\)\s+published\s+txcd_10000000$/m,
    );
    expect(list.stdout).toMatch(/^kit\s+Kit\s+one_time\s+\$19\.00, was \$29\.00\s+published$/m);

    const fixed = await run(["product", "update", "zine", "--fixed-price", "--tax-code", "none"]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain("Updated zine: Zine (one_time, $8.00)");
    expect(pricing("zine")).toMatchObject({ pwyw_minimum: null, tax_code: null });

    const minimumOnly = await run(["product", "update", "zine", "--pay-what-you-want", "500"]);
    expect(minimumOnly.code, minimumOnly.stderr).toBe(0);
    expect(pricing("zine")).toMatchObject({ pwyw_minimum: 500, pwyw_suggested: 500 });

    const saleEnds = await run(["product", "update", "kit", "--list-price", "none"]);
    expect(saleEnds.code, saleEnds.stderr).toBe(0);
    expect(saleEnds.stdout).toContain("Updated kit: Kit (one_time, $19.00)");
    expect(pricing("kit")).toMatchObject({ list_price: null });
  });

  it("refuses what the pricing rules refuse, and what is not an amount or a tax code, changing nothing", async () => {
    const club = await run([
      ...["product", "add", "--slug", "club", "--name", "Club", "--price", "900"],
      ...["--kind", "subscription", "--interval", "month", "--pay-what-you-want", "300"],
    ]);
    expect(club.code).toBe(1);
    expect(club.stderr).toContain("Pay what you want is for one-time purchases");
    const addedClub = await run([
      ...["product", "add", "--slug", "club2", "--name", "Club", "--price", "900"],
      ...["--kind", "subscription", "--interval", "month"],
    ]);
    expect(addedClub.code, addedClub.stderr).toBe(0);

    await run(["product", "add", "--slug", "book", "--name", "Book", "--price", "1900"]);
    const before = pricing("book");
    const [subscription, lowList, suggestedBelow, both, badAmount, badCode, badList] =
      await Promise.all([
        run(["product", "update", "club2", "--pay-what-you-want", "300:900"]),
        run(["product", "update", "book", "--list-price", "1900"]),
        run(["product", "update", "book", "--pay-what-you-want", "500:300"]),
        run(["product", "update", "book", "--pay-what-you-want", "500", "--fixed-price"]),
        run(["product", "update", "book", "--pay-what-you-want", "5.00"]),
        run(["product", "update", "book", "--tax-code", "txcd_123"]),
        run(["product", "update", "book", "--list-price", "twenty"]),
      ]);
    for (const refused of [
      subscription,
      lowList,
      suggestedBelow,
      both,
      badAmount,
      badCode,
      badList,
    ])
      expect(refused.code).toBe(1);
    expect(subscription.stderr).toContain("Error: Pay what you want is for one-time purchases");
    expect(lowList.stderr).toContain("it must be above the price");
    expect(suggestedBelow.stderr).toContain("The suggested amount cannot be below the minimum");
    expect(both.stderr).toContain("--pay-what-you-want and --fixed-price contradict each other");
    expect(badAmount.stderr).toContain("use <minimum> or <minimum>:<suggested>");
    expect(badCode.stderr).toContain("use a Stripe tax code such as txcd_10000000");
    expect(badList.stderr).toContain('or "none" to end the sale');
    expect(pricing("book")).toEqual(before);
    expect(pricing("club2")).toMatchObject({ pwyw_minimum: null });
  });

  it("orders --csv prints the export's header line", async () => {
    const csv = await run(["orders", "--csv"]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split("\r\n")[0]).toMatch(
      /^reference,order_id,created_at,status,product,email,currency,subtotal,discount,tax,total/,
    );
    const both = await run(["orders", "--csv", "--json"]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("Give --json or --csv, not both.");
  });
});
