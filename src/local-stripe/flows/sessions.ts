import type Stripe from "stripe";
import type { Engine, RequestInfo } from "../engine.ts";
import { badRequest } from "../errors.ts";
import { unixNow } from "../ids.ts";
import { type Interval, newLineItem, newPrice, newProduct, newSession } from "../objects.ts";

export interface PriceDataInput {
  currency: string;
  /** Null for a pay-what-you-want price. */
  unitAmount: number | null;
  customUnitAmount: Stripe.Price.CustomUnitAmount | null;
  taxBehavior: Stripe.Price.TaxBehavior | null;
  productName: string | null;
  taxCode: string | null;
  product: string | null;
  recurring: { interval: Interval; intervalCount: number } | null;
}

export interface SessionInput {
  mode: "payment" | "subscription";
  lineItems: { price: string | null; priceData: PriceDataInput | null; quantity: number }[];
  successUrl: string | null;
  cancelUrl: string | null;
  clientReferenceId: string | null;
  customerEmail: string | null;
  metadata: Record<string, string>;
  paymentIntentData: { metadata: Record<string, string>; description: string | null };
  subscriptionData: { metadata: Record<string, string>; description: string | null };
  expiresAt: number | null;
  locale: string | null;
  allowPromotionCodes: boolean | null;
  automaticTax: boolean;
  taxIdCollection: boolean;
  invoiceCreation: boolean;
}

/** A product and a price made on the fly from `price_data`, as Stripe does. */
export function createPrice(
  engine: Engine,
  data: PriceDataInput,
  param: string | null,
): Stripe.Price {
  let productId = data.product;
  if (productId) {
    if (!engine.state.products[productId])
      throw badRequest(
        `No such product: '${productId}'`,
        param ? `${param}[product]` : "product",
        "resource_missing",
      );
  } else {
    const product = newProduct({ name: data.productName ?? "", taxCode: data.taxCode });
    engine.state.products[product.id] = product;
    productId = product.id;
  }
  const price = newPrice({
    currency: data.currency,
    unitAmount: data.unitAmount,
    customUnitAmount: data.customUnitAmount,
    taxBehavior: data.taxBehavior,
    product: productId,
    recurring: data.recurring,
  });
  engine.state.prices[price.id] = price;
  return price;
}

export function createSession(
  engine: Engine,
  input: SessionInput,
  baseUrl: string,
): Stripe.Checkout.Session {
  const now = unixNow();
  if (input.expiresAt !== null && (input.expiresAt < now + 1800 || input.expiresAt > now + 86400))
    throw badRequest(
      "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
      "expires_at",
    );
  const lineItems = input.lineItems.map((item, i) => {
    const param = `line_items[${i}]`;
    const price = item.price
      ? engine.price(item.price, `${param}[price]`)
      : createPrice(engine, item.priceData as PriceDataInput, `${param}[price_data]`);
    const product =
      typeof price.product === "string" ? engine.state.products[price.product] : undefined;
    return newLineItem(price, item.quantity, product?.name ?? "");
  });
  checkLineItems(input.mode, lineItems);
  const session = newSession({
    baseUrl,
    mode: input.mode,
    lineItems,
    successUrl: input.successUrl,
    cancelUrl: input.cancelUrl,
    clientReferenceId: input.clientReferenceId,
    customerEmail: input.customerEmail,
    metadata: input.metadata,
    expiresAt: input.expiresAt,
    locale: input.locale,
    allowPromotionCodes: input.allowPromotionCodes,
    automaticTax: input.automaticTax,
    taxIdCollection: input.taxIdCollection,
    invoiceCreation: input.invoiceCreation,
    paymentMethodTypes: input.mode === "payment" ? ["card", "us_bank_account"] : ["card"],
  });
  engine.state.sessions[session.id] = session;
  engine.state.lineItems[session.id] = lineItems;
  engine.state.checkoutSetup[session.id] = {
    paymentIntentData: input.paymentIntentData,
    subscriptionData: input.subscriptionData,
  };
  return session;
}

function checkLineItems(mode: "payment" | "subscription", items: Stripe.LineItem[]) {
  const currencies = new Set(items.map((item) => item.currency));
  if (currencies.size > 1)
    throw badRequest(
      `All prices must use the same currency; got ${[...currencies].join(", ")}.`,
      "line_items",
    );
  const recurring = items.flatMap((item) => (item.price?.recurring ? [item.price.recurring] : []));
  if (mode === "payment" && recurring.length > 0)
    throw badRequest(
      "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
      "line_items",
    );
  const custom = items.filter((item) => item.price?.custom_unit_amount);
  if (custom.length > 0 && mode !== "payment")
    throw badRequest(
      "Prices with `custom_unit_amount` can only be used in `payment` mode.",
      "line_items",
    );
  if (custom.length > 1)
    throw badRequest(
      "The local Stripe's checkout page takes one pay-what-you-want (`custom_unit_amount`) price per Checkout Session.",
      "line_items",
    );
  if (mode === "subscription") {
    if (recurring.length === 0)
      throw badRequest(
        "You must provide at least one recurring price in `subscription` mode when using prices.",
        "line_items",
      );
    const intervals = new Set(recurring.map((r) => `${r.interval_count} ${r.interval}`));
    if (intervals.size > 1)
      throw badRequest(
        "Checkout does not support multiple prices with different billing intervals.",
        "line_items",
      );
  }
}

/** open -> expired, with `checkout.session.expired`. */
export function expireSession(
  engine: Engine,
  id: string,
  request?: RequestInfo,
): Stripe.Checkout.Session {
  const session = engine.session(id);
  if (session.status !== "open")
    throw badRequest(
      `Only Checkout Sessions with a status of \`open\` can be expired; ${id} is ${session.status}.`,
      "session",
    );
  session.status = "expired";
  session.url = null;
  engine.emit("checkout.session.expired", session, request ? { request } : {});
  return session;
}

/** Expires every open session whose `expires_at` has passed, as Stripe does on its own. */
export function sweepExpired(engine: Engine): number {
  const now = unixNow();
  const due = Object.values(engine.state.sessions).filter(
    (s) => s.status === "open" && s.expires_at <= now,
  );
  for (const session of due) expireSession(engine, session.id);
  return due.length;
}
