import type Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Endpoint,
  localStripe,
  missingFields,
  paymentSession,
  submitCheckout,
  webhookEndpoint,
} from "../stripe-local/support.ts";

/** Taxes, promotion codes, pay-what-you-want prices and post-purchase invoices, offline. */

let endpoint: Endpoint;
let local: Awaited<ReturnType<typeof localStripe>>;
let stripe: Stripe;

beforeEach(async () => {
  endpoint = await webhookEndpoint();
  local = await localStripe(endpoint.url);
  stripe = local.stripe;
});
afterEach(async () => {
  await local.close();
  await endpoint.close();
});

const CARD = { method: "card", card_number: "4242 4242 4242 4242" };

/** A one-time session for one item, as a shop selling one file makes it. */
function sellOne(
  price: { currency: string; unit_amount: number; tax_behavior?: "exclusive" | "inclusive" },
  extra: Partial<Stripe.Checkout.SessionCreateParams> = {},
) {
  return paymentSession(stripe, {
    line_items: [
      {
        quantity: 1,
        price_data: {
          ...price,
          product_data: { name: "Field Guide", tax_code: "txcd_10000000" },
        },
      },
    ],
    ...extra,
  });
}

const retrieve = (id: string) =>
  stripe.checkout.sessions.retrieve(id, { expand: ["line_items", "payment_intent"] });

async function noEventsAndOpen(session: { id: string }) {
  expect((await stripe.events.list()).data).toEqual([]);
  expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
}

describe("Checkout Session parameters", () => {
  it("stores and echoes automatic tax, tax ID collection, invoice creation and tax behaviour", async () => {
    const session = await sellOne(
      { currency: "eur", unit_amount: 1900, tax_behavior: "exclusive" },
      {
        automatic_tax: { enabled: true },
        tax_id_collection: { enabled: true },
        invoice_creation: { enabled: true },
        allow_promotion_codes: true,
      },
    );
    expect(session.automatic_tax).toEqual({
      enabled: true,
      liability: { type: "self" },
      provider: "stripe",
      status: "requires_location_inputs",
    });
    expect(session.tax_id_collection).toEqual({ enabled: true, required: "never" });
    expect(session.invoice_creation?.enabled).toBe(true);
    expect(session.allow_promotion_codes).toBe(true);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    const price = items.data[0]?.price as Stripe.Price;
    expect(price.tax_behavior).toBe("exclusive");
    const product = await stripe.products.retrieve(String(price.product));
    expect(product.tax_code).toBe("txcd_10000000");

    const plain = await sellOne({ currency: "eur", unit_amount: 1900 });
    expect(plain.automatic_tax.enabled).toBe(false);
    expect(plain.tax_id_collection).toEqual({ enabled: false, required: "never" });
    expect(plain.invoice_creation?.enabled).toBe(false);
  });

  it("refuses invoice_creation in subscription mode with Stripe's words, and unknown sub-parameters", async () => {
    const error = await stripe.checkout.sessions
      .create({
        mode: "subscription",
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: "eur",
              unit_amount: 900,
              recurring: { interval: "month" },
              product_data: { name: "Club" },
            },
          },
        ],
        invoice_creation: { enabled: true },
        success_url: "http://shop.test/ok",
      })
      .catch((e: Stripe.errors.StripeError) => e);
    expect(error).toMatchObject({ statusCode: 400, param: "invoice_creation" });
    expect((error as Error).message).toMatch(
      /^You can only enable invoice creation when `mode` is set to `payment`\./,
    );

    const unknown = await sellOne(
      { currency: "eur", unit_amount: 1900 },
      { automatic_tax: { enabled: true, liability: { type: "self" } } },
    ).catch((e: Stripe.errors.StripeError) => e);
    expect(unknown).toMatchObject({ statusCode: 400, param: "automatic_tax[liability]" });
  });
});

describe("promotion codes", () => {
  it("LAUNCH40, typed in any case, takes 40% off what is charged and refunded", async () => {
    const session = await sellOne(
      { currency: "usd", unit_amount: 1900 },
      { allow_promotion_codes: true },
    );
    const page = await (await fetch(session.url ?? "")).text();
    expect(page).toContain('name="promotion_code"');

    const response = await submitCheckout(session, { ...CARD, promotion_code: "launch40" });
    expect(response.status).toBe(303);
    const paid = await retrieve(session.id);
    expect(paid.amount_subtotal).toBe(1900);
    expect(paid.amount_total).toBe(1140);
    expect(paid.total_details).toEqual({ amount_discount: 760, amount_shipping: 0, amount_tax: 0 });
    expect(paid.discounts).toEqual([{ coupon: "launch40", promotion_code: "promo_localLAUNCH40" }]);
    expect(paid.line_items?.data[0]).toMatchObject({
      amount_subtotal: 1900,
      amount_discount: 760,
      amount_tax: 0,
      amount_total: 1140,
    });
    const intent = paid.payment_intent as Stripe.PaymentIntent;
    expect(intent.amount).toBe(1140);
    const charge = await stripe.charges.retrieve(String(intent.latest_charge));
    expect(charge.amount).toBe(1140);

    const refund = await stripe.refunds.create({ payment_intent: intent.id });
    expect(refund.amount).toBe(1140);
    expect((await stripe.charges.retrieve(charge.id)).refunded).toBe(true);
    const code = await stripe.promotionCodes.retrieve("promo_localLAUNCH40");
    expect(code.times_redeemed).toBe(1);
  });

  it("TENOFF takes 10.00 off in eur; a code made through the API works like Stripe's", async () => {
    const eur = await sellOne(
      { currency: "eur", unit_amount: 2500 },
      { allow_promotion_codes: true },
    );
    expect((await submitCheckout(eur, { ...CARD, promotion_code: "TENOFF" })).status).toBe(303);
    const paid = await stripe.checkout.sessions.retrieve(eur.id);
    expect(paid.amount_total).toBe(1500);
    expect(paid.total_details?.amount_discount).toBe(1000);

    const coupon = await stripe.coupons.create({
      amount_off: 500,
      currency: "usd",
      duration: "once",
      name: "Five off",
    });
    expect(missingFields(coupon, "coupon")).toEqual([]);
    expect(await stripe.coupons.retrieve(coupon.id)).toMatchObject({
      amount_off: 500,
      valid: true,
    });
    const code = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      code: "SAVE5",
    });
    expect(code.promotion).toEqual({ type: "coupon", coupon: coupon.id });
    expect(missingFields(code, "promotion_code")).toEqual([]);
    const listed = await stripe.promotionCodes.list({ code: "save5", active: true });
    expect(listed.data.map((p) => p.id)).toEqual([code.id]);
    expect((await stripe.promotionCodes.list({ code: "LAUNCH40" })).data[0]?.id).toBe(
      "promo_localLAUNCH40",
    );

    const usd = await sellOne(
      { currency: "usd", unit_amount: 1900 },
      { allow_promotion_codes: true },
    );
    expect((await submitCheckout(usd, { ...CARD, promotion_code: "save5" })).status).toBe(303);
    const saved = await stripe.checkout.sessions.retrieve(usd.id);
    expect(saved.amount_total).toBe(1400);
    expect(saved.discounts).toEqual([{ coupon: coupon.id, promotion_code: code.id }]);
  });

  it("refuses an unknown, inactive or wrong-currency code: 400, nothing charged, no events", async () => {
    await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: "launch40" },
      code: "SLEEPING",
      active: false,
    });
    const session = await sellOne(
      { currency: "jpy", unit_amount: 3000 },
      { allow_promotion_codes: true },
    );
    for (const code of ["NOPE", "sleeping", "TENOFF"]) {
      const response = await submitCheckout(session, { ...CARD, promotion_code: code });
      expect(response.status).toBe(400);
      const html = await response.text();
      expect(html).toContain("This code is invalid.");
      expect(html).toContain(`value="${code}"`);
    }
    await noEventsAndOpen(session);
  });
});

describe("automatic tax", () => {
  it("adds tax to exclusive prices, after the discount", async () => {
    const session = await sellOne(
      { currency: "eur", unit_amount: 10000, tax_behavior: "exclusive" },
      { automatic_tax: { enabled: true }, allow_promotion_codes: true },
    );
    const page = await (await fetch(session.url ?? "")).text();
    expect(page).toContain('name="country"');
    expect(page).toContain('<option value="DE">Germany</option>');

    const preview = await submitCheckout(session, { method: "update", country: "DE" });
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain("€119.00");

    const response = await submitCheckout(session, {
      ...CARD,
      country: "DE",
      promotion_code: "LAUNCH40",
    });
    expect(response.status).toBe(303);
    const paid = await retrieve(session.id);
    expect(paid.amount_subtotal).toBe(10000);
    expect(paid.total_details).toEqual({
      amount_discount: 4000,
      amount_shipping: 0,
      amount_tax: 1140,
    });
    expect(paid.amount_total).toBe(7140);
    expect(paid.automatic_tax).toMatchObject({ enabled: true, status: "complete" });
    expect(paid.customer_details).toMatchObject({
      email: "buyer@example.com",
      address: { country: "DE" },
      tax_exempt: "none",
      tax_ids: [],
    });
    expect(paid.line_items?.data[0]).toMatchObject({
      amount_subtotal: 10000,
      amount_discount: 4000,
      amount_tax: 1140,
      amount_total: 7140,
    });
    expect((paid.payment_intent as Stripe.PaymentIntent).amount).toBe(7140);
  });

  it("takes tax out of inclusive prices", async () => {
    const session = await sellOne(
      { currency: "eur", unit_amount: 12000, tax_behavior: "inclusive" },
      { automatic_tax: { enabled: true } },
    );
    expect((await submitCheckout(session, { ...CARD, country: "FR" })).status).toBe(303);
    const paid = await retrieve(session.id);
    expect(paid.amount_subtotal).toBe(12000);
    expect(paid.total_details?.amount_tax).toBe(2000);
    expect(paid.amount_total).toBe(12000);
    expect(paid.line_items?.data[0]?.price?.tax_behavior).toBe("inclusive");
  });

  it("wants a country when tax is automatic", async () => {
    const session = await sellOne(
      { currency: "eur", unit_amount: 1000 },
      { automatic_tax: { enabled: true } },
    );
    const response = await submitCheckout(session, { ...CARD, country: "" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Choose your country.");
    await noEventsAndOpen(session);
  });

  it("reverse-charges an EU business with an EU VAT number, and records the tax ID", async () => {
    const session = await sellOne(
      { currency: "eur", unit_amount: 10000, tax_behavior: "exclusive" },
      {
        automatic_tax: { enabled: true },
        tax_id_collection: { enabled: true },
        invoice_creation: { enabled: true },
      },
    );
    const response = await submitCheckout(session, {
      ...CARD,
      country: "DE",
      tax_id: "de 123 456 789",
    });
    expect(response.status).toBe(303);
    const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ["invoice"] });
    expect(paid.total_details?.amount_tax).toBe(0);
    expect(paid.amount_total).toBe(10000);
    expect(paid.customer_details).toMatchObject({
      tax_exempt: "reverse",
      tax_ids: [{ type: "eu_vat", value: "DE123456789" }],
    });
    const invoice = paid.invoice as Stripe.Invoice;
    expect(invoice.customer_tax_exempt).toBe("reverse");
    expect(invoice.customer_tax_ids).toEqual([{ type: "eu_vat", value: "DE123456789" }]);
    expect(invoice.total_taxes?.[0]).toMatchObject({
      amount: 0,
      taxability_reason: "reverse_charge",
      tax_behavior: "exclusive",
      type: "tax_rate_details",
    });
  });

  it("taxes a UK business with its VAT number recorded, and refuses a tax ID it cannot read", async () => {
    const session = await sellOne(
      { currency: "gbp", unit_amount: 1000, tax_behavior: "exclusive" },
      { automatic_tax: { enabled: true }, tax_id_collection: { enabled: true } },
    );
    const bad = await submitCheckout(session, { ...CARD, country: "GB", tax_id: "12-AB" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Enter a tax ID such as an EU VAT number");
    await noEventsAndOpen(session);

    expect(
      (await submitCheckout(session, { ...CARD, country: "GB", tax_id: "GB123456789" })).status,
    ).toBe(303);
    const paid = await stripe.checkout.sessions.retrieve(session.id);
    expect(paid.customer_details?.tax_ids).toEqual([{ type: "gb_vat", value: "GB123456789" }]);
    expect(paid.customer_details?.tax_exempt).toBe("none");
    expect(paid.total_details?.amount_tax).toBe(200);
    expect(paid.amount_total).toBe(1200);
  });
});

describe("pay what you want", () => {
  async function customPrice() {
    return stripe.prices.create({
      currency: "eur",
      custom_unit_amount: { enabled: true, minimum: 500, maximum: 10000, preset: 1500 },
      product_data: { name: "Zine", tax_code: "txcd_10000000" },
      tax_behavior: "inclusive",
      metadata: { kind: "pwyw" },
    });
  }

  it("creates a price with custom_unit_amount in Stripe's shape", async () => {
    const price = await customPrice();
    expect(price).toMatchObject({
      unit_amount: null,
      unit_amount_decimal: null,
      custom_unit_amount: { minimum: 500, maximum: 10000, preset: 1500 },
      tax_behavior: "inclusive",
      type: "one_time",
      metadata: { kind: "pwyw" },
    });
    expect(missingFields(price, "price")).toEqual([]);
    const product = await stripe.products.retrieve(String(price.product));
    expect(product).toMatchObject({ name: "Zine", tax_code: "txcd_10000000" });
  });

  it("refuses an amount under the minimum, then pays the chosen amount", async () => {
    const price = await customPrice();
    const session = await paymentSession(stripe, {
      line_items: [{ price: price.id, quantity: 1 }],
    });
    const page = await (await fetch(session.url ?? "")).text();
    expect(page).toContain('name="amount"');
    expect(page).toContain('value="15.00"');

    const under = await submitCheckout(session, { ...CARD, amount: "4.99" });
    expect(under.status).toBe(400);
    const html = await under.text();
    expect(html).toContain("Enter at least €5.00.");
    expect(html).toContain('value="4.99"');
    const over = await submitCheckout(session, { ...CARD, amount: "100.01" });
    expect(over.status).toBe(400);
    expect(await over.text()).toContain("Enter at most €100.00.");
    await noEventsAndOpen(session);

    expect((await submitCheckout(session, { ...CARD, amount: "12.50" })).status).toBe(303);
    const paid = await retrieve(session.id);
    expect(paid.amount_subtotal).toBe(1250);
    expect(paid.amount_total).toBe(1250);
    expect(paid.line_items?.data[0]).toMatchObject({ amount_subtotal: 1250, amount_total: 1250 });
    expect(paid.line_items?.data[0]?.price?.id).toBe(price.id);
    expect((paid.payment_intent as Stripe.PaymentIntent).amount).toBe(1250);
  });

  it("pays exactly the minimum", async () => {
    const price = await customPrice();
    const session = await paymentSession(stripe, {
      line_items: [{ price: price.id, quantity: 1 }],
    });
    expect((await submitCheckout(session, { ...CARD, amount: "5" })).status).toBe(303);
    expect((await stripe.checkout.sessions.retrieve(session.id)).amount_subtotal).toBe(500);
  });
});

describe("post-purchase invoices", () => {
  it("makes a paid invoice with a hosted page and a PDF, its events before checkout.session.completed", async () => {
    const session = await sellOne(
      { currency: "eur", unit_amount: 2000, tax_behavior: "exclusive" },
      {
        automatic_tax: { enabled: true },
        invoice_creation: { enabled: true },
        allow_promotion_codes: true,
      },
    );
    expect(
      (await submitCheckout(session, { ...CARD, country: "NL", promotion_code: "TENOFF" })).status,
    ).toBe(303);
    const received = await endpoint.waitForCount(7);
    expect(received.map((r) => r.event.type)).toEqual([
      "payment_intent.succeeded",
      "charge.succeeded",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
      "checkout.session.completed",
    ]);
    expect(received.slice(2, 5).map((r) => (r.event.data.object as Stripe.Invoice).status)).toEqual(
      ["draft", "open", "paid"],
    );

    const paid = await stripe.checkout.sessions.retrieve(session.id);
    expect(paid.amount_total).toBe(1210);
    expect(typeof paid.customer).toBe("string");
    const invoice = await stripe.invoices.retrieve(String(paid.invoice));
    expect(invoice).toMatchObject({
      status: "paid",
      parent: null,
      customer: paid.customer,
      subtotal: 2000,
      total: 1210,
      amount_paid: 1210,
      total_excluding_tax: 1000,
      customer_address: { country: "NL" },
      automatic_tax: { enabled: true, status: "complete" },
    });
    expect(invoice.total_discount_amounts?.[0]?.amount).toBe(1000);
    expect(invoice.total_taxes?.[0]).toMatchObject({
      amount: 210,
      taxability_reason: "standard_rated",
      taxable_amount: 1000,
    });
    expect(invoice.lines.data[0]).toMatchObject({ amount: 2000, subtotal: 2000 });
    // `subscription` left invoices in API version 2025-03-31; the example still has it.
    expect(missingFields(invoice, "invoice")).toEqual(["subscription"]);
    const intent = await stripe.paymentIntents.retrieve(String(paid.payment_intent));
    expect(intent.customer).toBe(paid.customer);

    const hosted = await fetch(invoice.hosted_invoice_url ?? "");
    expect(hosted.status).toBe(200);
    expect(hosted.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await hosted.text();
    expect(html).toContain("€12.10");
    expect(html).toContain("Discount");
    expect(invoice.hosted_invoice_url).toMatch(/\/invoices\/in_[A-Za-z0-9]+$/);

    const pdf = await fetch(invoice.invoice_pdf ?? "");
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe("%PDF-");
  });

  it("puts a subscription's discount and tax on its first invoice", async () => {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: "eur",
            unit_amount: 1000,
            tax_behavior: "exclusive",
            recurring: { interval: "month" },
            product_data: { name: "Club" },
          },
        },
      ],
      automatic_tax: { enabled: true },
      allow_promotion_codes: true,
      success_url: "http://shop.test/ok",
    });
    expect(
      (await submitCheckout(session, { ...CARD, country: "IE", promotion_code: "LAUNCH40" }))
        .status,
    ).toBe(303);
    const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ["invoice"] });
    expect(paid.total_details).toEqual({
      amount_discount: 400,
      amount_shipping: 0,
      amount_tax: 138,
    });
    expect(paid.amount_total).toBe(738);
    const invoice = paid.invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ total: 738, amount_paid: 738, subtotal: 1000 });
    expect(invoice.total_discount_amounts?.[0]?.amount).toBe(400);
    expect(invoice.total_taxes?.[0]?.amount).toBe(138);
    expect(invoice.parent?.subscription_details?.subscription).toBe(paid.subscription);
  });
});
