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

/** `price_data` of a line item, or the body of `POST /v1/prices`. */
export function priceData(r: Reader, productDataKey = "product_data"): PriceDataInput {
  const cur = currency(r);
  const unitAmount = r.int("unit_amount", { min: 0, max: 99_999_999 });
  const decimal = r.string("unit_amount_decimal");
  if (unitAmount === undefined && decimal === undefined)
    throw badRequest(`Missing required param: ${r.path("unit_amount")}.`, r.path("unit_amount"));
  if (decimal !== undefined && !/^\d+$/.test(decimal))
    throw badRequest(
      "The local Stripe supports whole minor units only.",
      r.path("unit_amount_decimal"),
    );
  const product = r.string("product");
  const productData = r.object(productDataKey);
  if (product && productData)
    throw badRequest(
      `You may only specify one of these parameters: product, ${productDataKey}.`,
      r.path(productDataKey),
    );
  let productName: string | null = null;
  if (productData) {
    productName = productData.string("name", { required: true, max: 250 });
    productData.string("description");
    productData.metadata();
  } else if (!product) {
    throw badRequest(`Missing required param: ${r.path(productDataKey)}.`, r.path(productDataKey));
  }
  return {
    currency: cur,
    unitAmount: unitAmount ?? Number(decimal),
    productName,
    product: product ?? null,
    recurring: recurring(r.object("recurring")),
  };
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
