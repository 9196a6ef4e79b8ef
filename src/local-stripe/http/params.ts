import type Stripe from "stripe";
import { badRequest } from "../errors.ts";
import type { PriceDataInput, SessionInput } from "../flows/sessions.ts";
import type { Interval } from "../objects.ts";
import type { Reader } from "../params.ts";

/** Request parameters of the endpoints that take more than an id, read as Stripe reads them. */

const INTERVALS = ["day", "week", "month", "year"] as const;

const dropEmpty = (metadata: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(metadata ?? {}).filter(([, v]) => v !== ""));

function currency(r: Reader, key = "currency"): string {
  const code = r.string(key, { required: true }).toLowerCase();
  if (!/^[a-z]{3}$/.test(code)) throw badRequest(`Invalid currency: ${code}`, r.path(key));
  return code;
}

function recurring(r: Reader | undefined): PriceDataInput["recurring"] {
  if (!r) return null;
  const interval = r.oneOf("interval", INTERVALS, true);
  const max = { day: 365, week: 52, month: 12, year: 1 }[interval];
  const intervalCount = r.int("interval_count", { min: 1, max }) ?? 1;
  return { interval: interval as Interval, intervalCount };
}

const TAX_BEHAVIORS = ["exclusive", "inclusive", "unspecified"] as const;

/** `price_data` of a line item, or (`prices`) the body of `POST /v1/prices`. */
export function priceData(r: Reader, opts: { prices?: boolean } = {}): PriceDataInput {
  const cur = currency(r);
  const customUnitAmount = opts.prices ? customAmount(r.object("custom_unit_amount")) : null;
  const unitAmount = r.int("unit_amount", { min: 0, max: 99_999_999 });
  const decimal = r.string("unit_amount_decimal");
  if (customUnitAmount && (unitAmount !== undefined || decimal !== undefined))
    throw badRequest(
      "You may only specify one of these parameters: custom_unit_amount, unit_amount.",
      r.path("custom_unit_amount"),
    );
  if (!customUnitAmount && unitAmount === undefined && decimal === undefined)
    throw badRequest(`Missing required param: ${r.path("unit_amount")}.`, r.path("unit_amount"));
  if (decimal !== undefined && !/^\d+$/.test(decimal))
    throw badRequest(
      "The local Stripe supports whole minor units only.",
      r.path("unit_amount_decimal"),
    );
  const product = r.string("product");
  const productData = r.object("product_data");
  if (product && productData)
    throw badRequest(
      "You may only specify one of these parameters: product, product_data.",
      r.path("product_data"),
    );
  let productName: string | null = null;
  let taxCode: string | null = null;
  if (productData) {
    productName = productData.string("name", { required: true, max: 250 });
    productData.string("description");
    productData.metadata();
    taxCode = productData.string("tax_code") ?? null;
    if (taxCode !== null && !/^txcd_\d{8}$/.test(taxCode))
      throw badRequest(`Invalid tax code: ${taxCode}`, productData.path("tax_code"));
  } else if (!product) {
    throw badRequest(`Missing required param: ${r.path("product_data")}.`, r.path("product_data"));
  }
  const interval = recurring(r.object("recurring"));
  if (customUnitAmount && interval)
    throw badRequest(
      "`custom_unit_amount` is only supported for one-time prices.",
      r.path("custom_unit_amount"),
    );
  return {
    currency: cur,
    unitAmount: customUnitAmount ? null : (unitAmount ?? Number(decimal)),
    customUnitAmount,
    taxBehavior: r.oneOf("tax_behavior", TAX_BEHAVIORS) ?? null,
    productName,
    taxCode,
    product: product ?? null,
    recurring: interval,
  };
}

/** `custom_unit_amount[enabled, minimum, maximum, preset]`: a pay-what-you-want price. */
function customAmount(r: Reader | undefined): PriceDataInput["customUnitAmount"] {
  if (!r) return null;
  if (r.bool("enabled") !== true)
    throw badRequest(
      `${r.path("enabled")} must be true to create a price with a custom unit amount.`,
      r.path("enabled"),
    );
  const bounds = { min: 0, max: 99_999_999 };
  const minimum = r.int("minimum", bounds) ?? null;
  const maximum = r.int("maximum", bounds) ?? null;
  const preset = r.int("preset", bounds) ?? null;
  if (minimum !== null && maximum !== null && minimum > maximum)
    throw badRequest("The minimum must be less than or equal to the maximum.", r.path("minimum"));
  if (
    preset !== null &&
    ((minimum !== null && preset < minimum) || (maximum !== null && preset > maximum))
  )
    throw badRequest("The preset must be between the minimum and the maximum.", r.path("preset"));
  return { maximum, minimum, preset };
}

/** `automatic_tax[enabled]` and the like: an object with one required boolean. */
function enabled(r: Reader, key: string): boolean {
  const object = r.object(key);
  if (!object) return false;
  const value = object.bool("enabled");
  if (value === undefined)
    throw badRequest(`Missing required param: ${object.path("enabled")}.`, object.path("enabled"));
  return value;
}

export function sessionInput(r: Reader): SessionInput {
  const mode = r.oneOf("mode", ["payment", "setup", "subscription"], true);
  if (mode === "setup")
    throw badRequest("The local Stripe supports `payment` and `subscription` modes.", "mode");
  const items = r.list("line_items", true) ?? [];
  if (items.length === 0) throw badRequest("Missing required param: line_items.", "line_items");
  const lineItems = items.map((item) => {
    const price = item.string("price");
    const data = item.object("price_data");
    const quantity = item.int("quantity", { required: true, min: 1, max: 999_999 });
    if (price && data)
      throw badRequest(
        "You may only specify one of these parameters: price, price_data.",
        item.path("price"),
      );
    if (!price && !data)
      throw badRequest(
        "You must specify either `price` or `price_data` for each line item.",
        item.path("price"),
      );
    return { price: price ?? null, priceData: data ? priceData(data) : null, quantity };
  });

  const paymentIntentData = r.object("payment_intent_data");
  const subscriptionData = r.object("subscription_data");
  if (paymentIntentData && mode !== "payment")
    throw badRequest(
      `You can not pass \`payment_intent_data\` in \`${mode}\` mode.`,
      "payment_intent_data",
    );
  if (subscriptionData && mode !== "subscription")
    throw badRequest(
      `You can not pass \`subscription_data\` in \`${mode}\` mode.`,
      "subscription_data",
    );
  const extra = (data: Reader | undefined) => ({
    metadata: dropEmpty(data?.metadata()),
    description: data?.string("description", { max: 1000 }) ?? null,
  });

  const invoiceCreation = enabled(r, "invoice_creation");
  if (invoiceCreation && mode !== "payment")
    throw badRequest(
      "You can only enable invoice creation when `mode` is set to `payment`. Invoices are created automatically when `mode` is set to `subscription`, and are unsupported when set to `setup`. To learn more visit https://stripe.com/docs/payments/checkout/post-payment-invoices.",
      "invoice_creation",
    );
  return {
    mode,
    lineItems,
    successUrl: r.url("success_url") ?? null,
    cancelUrl: r.url("cancel_url") ?? null,
    clientReferenceId: r.string("client_reference_id", { max: 200 }) ?? null,
    customerEmail: r.email("customer_email") ?? null,
    metadata: dropEmpty(r.metadata()),
    paymentIntentData: extra(paymentIntentData),
    subscriptionData: extra(subscriptionData),
    expiresAt: r.int("expires_at") ?? null,
    locale: r.string("locale") ?? null,
    allowPromotionCodes: r.bool("allow_promotion_codes") ?? null,
    automaticTax: enabled(r, "automatic_tax"),
    taxIdCollection: enabled(r, "tax_id_collection"),
    invoiceCreation,
  };
}

export function refundInput(r: Reader) {
  const reason = r.oneOf("reason", ["duplicate", "fraudulent", "requested_by_customer"]);
  const input = {
    charge: r.string("charge"),
    paymentIntent: r.string("payment_intent"),
    amount: r.int("amount", { min: 1 }),
    reason: reason as Stripe.Refund.Reason | undefined,
    metadata: dropEmpty(r.metadata()),
  };
  if (input.charge && input.paymentIntent)
    throw badRequest("You may only specify one of these parameters: charge, payment_intent.");
  return input;
}

/** `created` as a number or a range: `created[gte]=...`. */
export function createdRange(r: Reader): (created: number) => boolean {
  if (r.isText("created")) {
    const exact = r.int("created");
    return (t) => t === exact;
  }
  const range = r.object("created");
  if (!range) return () => true;
  const bounds = {
    gt: range.int("gt"),
    gte: range.int("gte"),
    lt: range.int("lt"),
    lte: range.int("lte"),
  };
  return (t) =>
    (bounds.gt === undefined || t > bounds.gt) &&
    (bounds.gte === undefined || t >= bounds.gte) &&
    (bounds.lt === undefined || t < bounds.lt) &&
    (bounds.lte === undefined || t <= bounds.lte);
}

export function pagination(r: Reader) {
  return {
    limit: r.int("limit", { min: 1, max: 100 }),
    startingAfter: r.string("starting_after"),
    endingBefore: r.string("ending_before"),
  };
}
