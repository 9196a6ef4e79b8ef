import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

/**
 * Issue 20's pages (decision 0029): an order's discount, tax, tax ID and invoice on the seller's
 * pages and in the receipt; the Checkout settings form; the product form's pricing fields; and
 * the store's crossed-out and pay-what-you-want prices.
 */

const html = { accept: "text/html" };
let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

function form(fields: Record<string, string>, origin = PUBLIC_URL) {
  return {
    method: "POST",
    headers: { ...html, "content-type": "application/x-www-form-urlencoded", origin },
    body: new URLSearchParams(fields).toString(),
  };
}

/** The visible text of a page, without tags, for assertions about what a person reads. */
const textOf = (page: string) =>
  page
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/&gt;/g, ">")
    .replace(/\s+/g, " ");

/** Whether the form control named `name` (with `value`, for radios) is checked. */
function checked(page: string, name: string, value = "on"): boolean {
  const input = new RegExp(`<input[^>]*name="${name}"[^>]*value="${value}"[^>]*>`).exec(page)?.[0];
  if (!input) throw new Error(`no input ${name}=${value}`);
  return /\schecked(=|\s|>|\/)/.test(input);
}

async function buy(h: Harness, slug: string, email: string) {
  const res = await h.request(`/checkout/${slug}`, {
    method: "POST",
    headers: { accept: "application/json", origin: PUBLIC_URL },
  });
  expect(res.status).toBe(201);
  const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
  const paid = await payOnHostedPage(started.url, { email });
  expect(paid.status).toBe(303);
  const success = await h.request(paid.headers.get("location") as string, { headers: html });
  expect(await success.text()).toContain("Payment received. Your files are ready.");
  return started;
}

async function mailsTo(h: Harness, email: string) {
  const res = await h.admin(`/api/admin/outbox?to=${encodeURIComponent(email)}`);
  return (await res.json()).messages as { subject: string; text: string; html: string }[];
}

describe.each(dialects)("tax and discount pages on %s", (dialect) => {
  let h: Harness;
  let owner: string;
  let sale: { orderId: string; sessionId: string };
  const buyerEmail = uniqueEmail("vat");

  const page = async (path: string, cookie = owner) => {
    const res = await h.request(path, { headers: html, cookie });
    return { status: res.status, html: await res.text() };
  };
  const post = (path: string, fields: Record<string, string>, cookie = owner) =>
    h.request(path, { ...form(fields), cookie });

  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
    owner = await h.signIn("owner@shop.test");
    const product = await h.productOnSale({
      name: "Tax Kit",
      price: { amount: 2900, currency: "eur" },
    });
    sale = await buy(h, product.slug, buyerEmail);
    await waitFor(async () => (await mailsTo(h, buyerEmail)).length > 0, "the receipt");
    // What Stripe reported for a 40% promotion code and German VAT on the rest, with an invoice.
    await h.deps.db
      .updateTable("orders")
      .set({
        amount_discount: 1160,
        amount_tax: 331,
        amount_total: 2071,
        tax_ids: "eu_vat DE123456789",
        buyer_country: "DE",
        invoice_id: "in_test_0123",
      })
      .where("id", "=", sale.orderId)
      .execute();
  });
  afterAll(() => h.close());

  it("the seller's order page itemises the charge, with the tax ID, country and invoice", async () => {
    const { status, html: body } = await page(`/admin/orders/${sale.orderId}`);
    expect(status).toBe(200);
    const text = textOf(body);
    expect(text).toContain("Subtotal €29.00");
    expect(text).toContain("Discount \u2212€11.60");
    expect(text).toContain("Tax (VAT) €3.31");
    expect(text).toContain("Total paid €20.71");
    expect(text).toContain("Net (before Stripe's fees) €17.40");
    expect(text).toContain("Buyer's tax ID DE123456789 (EU VAT)");
    expect(text).toContain("Country DE");
    expect(body).toContain("<code>in_test_0123</code>");
    // A refund returns what was paid.
    expect(body).toContain("Refund €20.71");
  });

  it("the orders list shows the total with its breakdown, and links the CSV export", async () => {
    const { html: body } = await page("/admin/orders");
    const text = textOf(body);
    expect(body).toContain('href="/api/admin/orders.csv"');
    expect(text).toContain("Export CSV");
    expect(text).toContain("€20.71");
    expect(text).toContain("Discount \u2212€11.60");
    expect(text).toContain("Tax (VAT) €3.31");
    expect(text).toContain("Net (before Stripe's fees) €17.40");
    expect(text).toContain("Tax ID DE123456789 (EU VAT)");
    expect(text).toContain("Invoice in_test_0123");
  });

  it("the receipt says the discount, the tax, the total paid and the buyer's tax ID", async () => {
    h.clock.advance(61_000);
    const sent = await post(`/admin/orders/${sale.orderId}/resend-receipt`, {});
    expect(sent.status).toBe(303);
    const [receipt] = await mailsTo(h, buyerEmail);
    const mail = receipt as { text: string; html: string };
    expect(mail.text).toContain("Subtotal:        €29.00");
    expect(mail.text).toContain("Discount:        \u2212€11.60");
    expect(mail.text).toContain("Tax (VAT):       €3.31");
    expect(mail.text).toContain("Total paid:      €20.71");
    expect(mail.text).toContain("Your tax ID:     DE123456789 (EU VAT)");
    expect(mail.text).not.toContain("Amount paid");
    const visible = textOf(mail.html);
    expect(visible).toContain("Discount \u2212€11.60");
    expect(visible).toContain("Total paid €20.71");
    expect(visible).toContain("Your tax ID DE123456789 (EU VAT)");
  });

  it("the buyer's success page opens the invoice", async () => {
    // The page asks the local Stripe again, which records what it charged (no discount here):
    // the discount reaching the buyer's pages is the browser test's (tax-discounts.test.ts).
    const { html: body } = await page(
      `/checkout/success?session_id=${encodeURIComponent(sale.sessionId)}`,
      "",
    );
    const text = textOf(body);
    expect(text).toMatch(/Invoice for Tax Kit/);
    expect(text).not.toMatch(/Receipt for Tax Kit/);
  });

  it("saves the Checkout settings, and refuses bad input changing nothing", async () => {
    const before = await page("/admin/settings");
    expect(textOf(before.html)).toContain("Calculate tax automatically (Stripe Tax)");
    expect(textOf(before.html)).toContain("Tax > Registrations");
    expect(checked(before.html, "automaticTax")).toBe(false);
    expect(checked(before.html, "taxBehavior", "exclusive")).toBe(true);

    const saved = await post("/admin/settings/checkout", {
      automaticTax: "on",
      promotionCodes: "on",
      taxBehavior: "inclusive",
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/admin/settings?done=checkout");
    const after = await page("/admin/settings?done=checkout");
    expect(textOf(after.html)).toContain("Checkout settings saved.");
    expect(checked(after.html, "automaticTax")).toBe(true);
    expect(checked(after.html, "promotionCodes")).toBe(true);
    expect(checked(after.html, "taxIdCollection")).toBe(false);
    expect(checked(after.html, "invoiceCreation")).toBe(false);
    expect(checked(after.html, "taxBehavior", "inclusive")).toBe(true);

    const bads: Record<string, string>[] = [
      { automaticTax: "maybe", taxBehavior: "exclusive" },
      { automaticTax: "on", promotionCodes: "on", taxBehavior: "sometimes" },
    ];
    for (const bad of bads) {
      const refused = await post("/admin/settings/checkout", bad);
      expect(refused.status).toBe(400);
      const text = textOf(await refused.text());
      expect(text).toMatch(/automaticTax: |taxBehavior: must be "exclusive"/);
    }
    const unchanged = await page("/admin/settings");
    expect(checked(unchanged.html, "automaticTax")).toBe(true);
    expect(checked(unchanged.html, "promotionCodes")).toBe(true);
    expect(checked(unchanged.html, "taxBehavior", "inclusive")).toBe(true);

    // A forged cross-site form changes nothing either.
    const forged = await h.request("/admin/settings/checkout", {
      ...form({ taxBehavior: "exclusive" }, "https://evil.example"),
      cookie: owner,
    });
    expect(forged.status).toBe(403);
    expect(checked((await page("/admin/settings")).html, "automaticTax")).toBe(true);
  });

  it("saves pay what you want, a list price and a tax code, and shows checkPricing's refusals", async () => {
    const product = await h.productOnSale({
      name: "Pricing Kit",
      price: { amount: 1900, currency: "eur" },
    });
    const fields = {
      name: "Pricing Kit",
      description: "",
      price: "19.00",
      stripePriceId: "",
      listPrice: "",
      taxCode: "",
      pwywMinimum: "",
      pwywSuggested: "",
    };
    const path = `/admin/products/${product.slug}`;
    const row = () =>
      h.deps.db
        .selectFrom("products")
        .select(["pwyw_minimum", "pwyw_suggested", "list_price", "tax_code"])
        .where("id", "=", product.id)
        .executeTakeFirstOrThrow();

    const pwyw = await post(path, {
      ...fields,
      pwyw: "on",
      pwywMinimum: "5",
      pwywSuggested: "12.50",
      taxCode: "txcd_10000000",
    });
    expect(pwyw.status).toBe(303);
    expect(await row()).toEqual({
      pwyw_minimum: 500,
      pwyw_suggested: 1250,
      list_price: null,
      tax_code: "txcd_10000000",
    });
    const edit = await page(path);
    const summary = textOf(/<p[^>]*id="pricing-summary"[\s\S]*?<\/p>/.exec(edit.html)?.[0] ?? "");
    expect(summary).toContain("Pay what you want from €5.00, suggested €12.50");
    expect(summary).toContain("tax code txcd_10000000");
    expect(checked(edit.html, "pwyw")).toBe(true);
    expect(edit.html).toContain('value="12.50"');
    const listed = textOf((await page("/admin/products")).html);
    expect(listed).toContain("Pay what you want, from €5.00");

    // The store: "Pay what you want" from the minimum, suggested amount beside it.
    const store = textOf((await page("/", "")).html);
    expect(store).toContain("Pay what you want from €5.00 · suggested €12.50");
    const productPage = await page(`/p/${product.slug}`, "");
    expect(textOf(productPage.html)).toContain("Pay what you want from €5.00");
    expect(productPage.html).toContain(`action="/checkout/${product.slug}"`);

    // Refused by checkPricing: the message beside the form, nothing saved.
    const low = await post(path, { ...fields, pwyw: "on", pwywMinimum: "5", pwywSuggested: "3" });
    expect(low.status).toBe(400);
    expect(textOf(await low.text())).toContain("The suggested amount cannot be below the minimum.");
    const notSale = await post(path, { ...fields, listPrice: "10.00" });
    expect(notSale.status).toBe(400);
    const notSaleHtml = await notSale.text();
    expect(textOf(notSaleHtml)).toContain("it must be above the price");
    expect(notSaleHtml).toContain('value="10.00"');
    const badCode = await post(path, { ...fields, taxCode: "vat-19" });
    expect(badCode.status).toBe(400);
    expect(textOf(await badCode.text())).toContain("txcd_10000000");
    const badAmount = await post(path, { ...fields, pwyw: "on", pwywMinimum: "five" });
    expect(badAmount.status).toBe(400);
    expect(textOf(await badAmount.text())).toContain("Minimum: write an amount such as 19.00");
    expect((await row()).pwyw_suggested).toBe(1250);

    // A sale: pay what you want off, a list price above the price.
    const sale = await post(path, { ...fields, listPrice: "29.00" });
    expect(sale.status).toBe(303);
    expect(await row()).toEqual({
      pwyw_minimum: null,
      pwyw_suggested: null,
      list_price: 2900,
      tax_code: null,
    });
    const storefront = await page("/", "");
    expect(storefront.html).toMatch(
      /<del><span class="sr-only">was <\/span>€29\.00<\/del> <span class="sr-only">now <\/span>€19\.00/,
    );
    const onSalePage = await page(`/p/${product.slug}`, "");
    expect(textOf(onSalePage.html)).toContain("was €29.00 now €19.00");
    expect(textOf((await page(path)).html)).toContain("on sale list price €29.00");
  });
});
