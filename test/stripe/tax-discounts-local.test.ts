import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const jsonPost = {
  method: "POST",
  headers: { accept: "application/json", origin: "http://shop.test" },
};

/**
 * Issue 20 end to end, offline: the shop with promotion codes, tax IDs, invoices and Stripe Tax on,
 * buyers paying on the local Stripe's checkout page, its webhooks granting.
 */
describe.each(dialects)("taxes and discounts through the local Stripe on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(
      dialect,
      {
        CHECKOUT_PROMOTION_CODES: "true",
        CHECKOUT_TAX_ID_COLLECTION: "true",
        CHECKOUT_INVOICE_CREATION: "true",
        CHECKOUT_AUTOMATIC_TAX: "true",
      },
      { stripe: true },
    );
  });
  afterAll(() => h?.close());

  const orderOf = async (orderId: string) =>
    (await (await h.admin("/api/admin/orders?limit=1000")).json()).orders.find(
      (o: { id: string }) => o.id === orderId,
    );
  const paidOrder = (orderId: string) =>
    waitFor(async () => {
      const order = await orderOf(orderId);
      return order?.status === "paid" ? order : null;
    }, `order ${orderId} paid`);
  const entitlementsOf = async (email: string) =>
    (await (await h.admin(`/api/admin/entitlements?email=${encodeURIComponent(email)}`)).json())
      .entitlements;
  async function startCheckout(slug: string) {
    const res = await h.request(`/checkout/${slug}`, jsonPost);
    expect(res.status).toBe(201);
    return (await res.json()) as { url: string; sessionId: string; orderId: string };
  }

  it("a buyer pays 40% off with a promotion code and a French VAT ID: access, tax, discount and invoice recorded", async () => {
    const product = await h.productOnSale({
      name: "Tax Kit",
      price: { amount: 2900, currency: "eur" },
      taxCode: "txcd_10000000",
    });
    const started = await startCheckout(product.slug);
    const paid = await payOnHostedPage(started.url, {
      email: "business@example.com",
      fields: { promotion_code: "launch40", country: "FR", tax_id: "FR12345678901" },
    });
    expect(paid.status).toBe(303);
    const order = await paidOrder(started.orderId);
    // 29.00 less 40% is 17.40; a French business buyer with an EU VAT ID: reverse charge.
    expect(order).toMatchObject({
      subtotal: 2900,
      discount: 1160,
      tax: 0,
      total: 1740,
      net: 1740,
      country: "FR",
      taxIds: [{ type: "eu_vat", value: "FR12345678901" }],
      invoiceId: expect.stringMatching(/^in_/),
    });
    expect(await entitlementsOf("business@example.com")).toEqual([
      expect.objectContaining({ status: "active", source: "purchase" }),
    ]);

    // The buyer's receipt link opens the invoice Checkout made.
    const receipt = await h.request(
      `/checkout/receipt?session_id=${encodeURIComponent(started.sessionId)}`,
    );
    expect(receipt.status).toBe(303);
    const invoicePage = await fetch(receipt.headers.get("location") as string);
    expect(invoicePage.status).toBe(200);
    expect(await invoicePage.text()).toContain("17.40");
  });

  it("a consumer in Germany pays German VAT on top of the price", async () => {
    const product = await h.productOnSale({ price: { amount: 2900, currency: "eur" } });
    const started = await startCheckout(product.slug);
    const paid = await payOnHostedPage(started.url, {
      email: "consumer@example.com",
      fields: { country: "DE" },
    });
    expect(paid.status).toBe(303);
    // 19% of 29.00 is 5.51, added: prices are tax-exclusive unless the seller says otherwise.
    expect(await paidOrder(started.orderId)).toMatchObject({
      subtotal: 2900,
      discount: 0,
      tax: 551,
      total: 3451,
      net: 2900,
      country: "DE",
      taxIds: [],
    });
  });

  it("a chosen price under the minimum is refused by Checkout and never grants; a fair one does", async () => {
    const product = await h.productOnSale({
      name: "Chosen Kit",
      price: { amount: 1500, currency: "eur" },
      payWhatYouWant: { minimum: 500, suggested: 1500 },
    });
    const low = await startCheckout(product.slug);
    const refused = await payOnHostedPage(low.url, {
      email: "cheap@example.com",
      fields: { amount: "4.99", country: "US" },
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("at least €5.00");
    expect((await orderOf(low.orderId)).status).toBe("pending");
    expect(await entitlementsOf("cheap@example.com")).toEqual([]);

    const fair = await startCheckout(product.slug);
    const accepted = await payOnHostedPage(fair.url, {
      email: "fair@example.com",
      fields: { amount: "12.50", country: "US" },
    });
    expect(accepted.status).toBe(303);
    expect(await paidOrder(fair.orderId)).toMatchObject({
      amount: 1250,
      subtotal: 1250,
      total: 1250,
    });
    expect(await entitlementsOf("fair@example.com")).toEqual([
      expect.objectContaining({ status: "active" }),
    ]);
  });
});
