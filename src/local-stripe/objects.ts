import Stripe from "stripe";
import { fixture } from "./fixtures.ts";
import { newId, randomText, unixNow } from "./ids.ts";

/**
 * Builders for every object the local Stripe returns. Each starts from Stripe's example object
 * and changes only what the case needs. The examples come from Stripe's API mock, so besides ids
 * and amounts they carry placeholder values for features a plain Checkout integration never
 * switches on (shipping costs, currency conversion, transfers, discounts...); those are reset to
 * what Stripe sends when the feature is off, usually null.
 */

export type MethodType = "card" | "us_bank_account";

/** The SDK types decimals as a class it builds on the client; on the wire they are strings. */
const decimal = (n: number) =>
  String(n) as unknown as NonNullable<Stripe.Price["unit_amount_decimal"]>;
export type Interval = "day" | "week" | "month" | "year";

export function newProduct(input: {
  name: string;
  description?: string | null;
  metadata?: Record<string, string>;
  taxCode?: string | null;
}): Stripe.Product {
  const product = fixture("product");
  const now = unixNow();
  return Object.assign(product, {
    id: newId("prod"),
    created: now,
    updated: now,
    default_price: null,
    description: input.description ?? null,
    metadata: input.metadata ?? {},
    name: input.name,
    package_dimensions: null,
    tax_code: input.taxCode ?? null,
    type: "service",
  });
}

export function newPrice(input: {
  currency: string;
  /** Null for a pay-what-you-want price (`customUnitAmount`). */
  unitAmount: number | null;
  customUnitAmount?: Stripe.Price.CustomUnitAmount | null;
  taxBehavior?: Stripe.Price.TaxBehavior | null;
  product: string;
  recurring: { interval: Interval; intervalCount: number } | null;
  metadata?: Record<string, string>;
}): Stripe.Price {
  const price = fixture("price");
  return Object.assign(price, {
    id: newId("price"),
    created: unixNow(),
    currency: input.currency,
    custom_unit_amount: input.customUnitAmount ?? null,
    metadata: input.metadata ?? {},
    product: input.product,
    recurring: input.recurring
      ? {
          meter: null,
          usage_type: "licensed",
          interval: input.recurring.interval,
          interval_count: input.recurring.intervalCount,
          trial_period_days: null,
        }
      : null,
    tax_behavior: input.taxBehavior ?? "unspecified",
    transform_quantity: null,
    type: input.recurring ? "recurring" : "one_time",
    unit_amount: input.unitAmount,
    unit_amount_decimal: input.unitAmount === null ? null : decimal(input.unitAmount),
  } satisfies Partial<Stripe.Price>);
}

export function newLineItem(
  price: Stripe.Price,
  quantity: number,
  description: string,
): Stripe.LineItem {
  const unit =
    price.unit_amount ?? price.custom_unit_amount?.preset ?? price.custom_unit_amount?.minimum ?? 0;
  const amount = unit * quantity;
  return Object.assign(fixture("item"), {
    id: newId("li"),
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description,
    metadata: {},
    price: structuredClone(price),
    quantity,
  } satisfies Partial<Stripe.LineItem>);
}

export function newSession(input: {
  baseUrl: string;
  mode: "payment" | "subscription";
  lineItems: Stripe.LineItem[];
  successUrl: string | null;
  cancelUrl: string | null;
  clientReferenceId: string | null;
  customerEmail: string | null;
  metadata: Record<string, string>;
  expiresAt: number | null;
  locale: string | null;
  allowPromotionCodes: boolean | null;
  automaticTax: boolean;
  taxIdCollection: boolean;
  invoiceCreation: boolean;
  paymentMethodTypes: string[];
}): Stripe.Checkout.Session {
  const session = fixture("checkout.session");
  const id = newId("cs");
  const now = unixNow();
  const total = input.lineItems.reduce((sum, item) => sum + item.amount_total, 0);
  const oneTime = input.mode === "payment";
  return Object.assign(session, {
    id,
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: input.allowPromotionCodes,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: input.automaticTax
      ? {
          enabled: true,
          liability: { type: "self" },
          provider: "stripe",
          status: "requires_location_inputs",
        }
      : { enabled: false, liability: null, provider: null, status: null },
    cancel_url: input.cancelUrl,
    client_reference_id: input.clientReferenceId,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: now,
    currency: input.lineItems[0]?.currency ?? null,
    currency_conversion: null,
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: null,
    customer_account: null,
    customer_creation: oneTime ? "if_required" : null,
    customer_details: null,
    customer_email: input.customerEmail,
    discounts: [],
    expires_at: input.expiresAt ?? now + 24 * 3600,
    invoice: null,
    invoice_creation: oneTime
      ? {
          enabled: input.invoiceCreation,
          invoice_data: {
            account_tax_ids: null,
            custom_fields: null,
            description: null,
            footer: null,
            issuer: null,
            metadata: {},
            rendering_options: null,
          },
        }
      : null,
    livemode: false,
    locale: (input.locale as Stripe.Checkout.Session.Locale | null) ?? null,
    managed_payments: null,
    metadata: { ...input.metadata },
    mode: input.mode,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: input.paymentMethodTypes,
    payment_status: "unpaid",
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: input.successUrl,
    tax_id_collection: { enabled: input.taxIdCollection, required: "never" },
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted_page",
    url: `${input.baseUrl}/checkout/${id}`,
    wallet_options: null,
  } satisfies Partial<Stripe.Checkout.Session>);
}

/** What the buyer gave at checkout: the email, and the country and tax IDs when asked for. */
export interface Buyer {
  country: string | null;
  taxIds: Stripe.Checkout.Session.CustomerDetails.TaxId[];
  taxExempt: "none" | "reverse";
}

export const addressIn = (country: string | null): Stripe.Address | null =>
  country
    ? { city: null, country, line1: null, line2: null, postal_code: null, state: null }
    : null;

export function customerDetails(
  email: string,
  buyer?: Buyer,
): Stripe.Checkout.Session.CustomerDetails {
  const details = fixture("checkout.session").customer_details;
  return Object.assign(details ?? {}, {
    address: addressIn(buyer?.country ?? null),
    business_name: null,
    email,
    individual_name: null,
    name: null,
    phone: null,
    tax_exempt: buyer?.taxExempt ?? "none",
    tax_ids: buyer?.taxIds ?? [],
  } satisfies Stripe.Checkout.Session.CustomerDetails);
}

export function newPaymentIntent(input: {
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  methodType: MethodType;
  status: Stripe.PaymentIntent.Status;
}): Stripe.PaymentIntent {
  const intent = fixture("payment_intent");
  const id = newId("pi");
  const succeeded = input.status === "succeeded";
  return Object.assign(intent, {
    id,
    amount: input.amount,
    amount_capturable: 0,
    amount_received: succeeded ? input.amount : 0,
    automatic_payment_methods: null,
    canceled_at: null,
    client_secret: `${id}_secret_${randomText(25)}`,
    created: unixNow(),
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    managed_payments: null,
    metadata: { ...input.metadata },
    next_action: null,
    payment_method: newId("pm"),
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: [input.methodType],
    processing: null,
    shipping: null,
    source: null,
    status: input.status,
    transfer_data: null,
  } satisfies Partial<Stripe.PaymentIntent>);
}

export function newCharge(intent: Stripe.PaymentIntent, email: string | null): Stripe.Charge {
  const charge = fixture("charge");
  const id = newId("ch");
  const methodType = intent.payment_method_types[0] === "card" ? "card" : "us_bank_account";
  const card = charge.payment_method_details?.card;
  const year = new Date().getUTCFullYear();
  return Object.assign(charge, {
    id,
    amount: intent.amount,
    amount_captured: intent.amount,
    amount_refunded: 0,
    balance_transaction: newId("txn"),
    billing_details: { ...charge.billing_details, email, name: null },
    captured: true,
    created: unixNow(),
    currency: intent.currency,
    customer: intent.customer,
    description: intent.description,
    disputed: false,
    metadata: { ...intent.metadata },
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: intent.id,
    payment_method: typeof intent.payment_method === "string" ? intent.payment_method : null,
    payment_method_details:
      methodType === "card" && card
        ? {
            type: "card",
            card: {
              ...card,
              amount_authorized: intent.amount,
              exp_month: 12,
              exp_year: year + 3,
              fingerprint: randomText(16),
              installments: null,
              overcapture: { maximum_amount_capturable: intent.amount, status: "unavailable" },
              three_d_secure: null,
              wallet: null,
              network_transaction_id: randomText(15),
              regulated_status: "unregulated",
            },
          }
        : {
            type: "us_bank_account",
            us_bank_account: {
              account_holder_type: "individual",
              account_type: "checking",
              bank_name: "STRIPE TEST BANK",
              fingerprint: randomText(16),
              last4: "6789",
              payment_reference: null,
              routing_number: "110000000",
            },
          },
    receipt_email: email,
    receipt_url: null,
    refunded: false,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${id}/refunds` },
    shipping: null,
    source: null,
    status: "succeeded",
    transfer_data: null,
  } satisfies Partial<Stripe.Charge>);
}

export function newCustomer(email: string, buyer?: Buyer): Stripe.Customer {
  return Object.assign(fixture("customer"), {
    id: newId("cus"),
    created: unixNow(),
    discount: null,
    email,
    invoice_prefix: randomText(8).toUpperCase(),
    next_invoice_sequence: 1,
    shipping: null,
    address: addressIn(buyer?.country ?? null),
    tax_exempt: buyer?.taxExempt ?? "none",
  } satisfies Partial<Stripe.Customer>);
}

export interface Period {
  start: number;
  end: number;
}

function newSubscriptionItem(
  subscription: string,
  price: Stripe.Price,
  quantity: number,
  period: Period,
): Stripe.SubscriptionItem {
  const example = fixture("subscription").items.data[0] as Stripe.SubscriptionItem;
  return Object.assign(example, {
    id: newId("si"),
    billing_thresholds: null,
    created: period.start,
    current_period_end: period.end,
    current_period_start: period.start,
    metadata: {},
    // The legacy plan object mirrors the price.
    plan: Object.assign(example.plan, {
      id: price.id,
      active: true,
      amount: price.unit_amount,
      amount_decimal: price.unit_amount_decimal,
      billing_scheme: "per_unit",
      created: price.created,
      currency: price.currency,
      interval: price.recurring?.interval ?? "month",
      interval_count: price.recurring?.interval_count ?? 1,
      livemode: false,
      metadata: {},
      product: price.product,
      transform_usage: null,
    } satisfies Partial<Stripe.Plan>),
    price: structuredClone(price),
    quantity,
    subscription,
  } satisfies Partial<Stripe.SubscriptionItem>);
}

export function newSubscription(input: {
  customer: string;
  currency: string;
  items: { price: Stripe.Price; quantity: number }[];
  metadata: Record<string, string>;
  description: string | null;
  period: Period;
}): Stripe.Subscription {
  const subscription = fixture("subscription");
  const id = newId("sub");
  return Object.assign(subscription, {
    id,
    application: null,
    application_fee_percent: null,
    automatic_tax: { enabled: false, liability: null, disabled_reason: null },
    billing_cycle_anchor: input.period.start,
    billing_cycle_anchor_config: null,
    billing_mode: { type: "classic", flexible: null },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    created: input.period.start,
    currency: input.currency,
    customer: input.customer,
    default_payment_method: newId("pm"),
    description: input.description,
    ended_at: null,
    items: {
      object: "list",
      data: input.items.map((item) =>
        newSubscriptionItem(id, item.price, item.quantity, input.period),
      ),
      has_more: false,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    latest_invoice: null,
    managed_payments: null,
    metadata: { ...input.metadata },
    next_pending_invoice_item_invoice: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_update: null,
    start_date: input.period.start,
    status: "active",
    transfer_data: null,
    trial_end: null,
    trial_start: null,
  } satisfies Partial<Stripe.Subscription>);
}

export function newRefund(
  charge: Stripe.Charge,
  amount: number,
  reason: Stripe.Refund.Reason | null,
  metadata: Record<string, string>,
): Stripe.Refund {
  const refund = fixture("refund");
  Object.assign(refund, {
    id: newId("re"),
    amount,
    balance_transaction: newId("txn"),
    charge: charge.id,
    created: unixNow(),
    currency: charge.currency,
    customer: typeof charge.customer === "string" ? charge.customer : null,
    metadata,
    payment_intent: typeof charge.payment_intent === "string" ? charge.payment_intent : null,
    payment_method: typeof charge.payment_method === "string" ? charge.payment_method : null,
    reason,
    status: "succeeded",
  } satisfies Partial<Stripe.Refund>);
  if (charge.payment_method_details?.type !== "card") delete refund.destination_details;
  return refund;
}

export function newDispute(charge: Stripe.Charge): Stripe.Dispute {
  const dispute = fixture("dispute");
  const now = unixNow();
  Object.assign(dispute, {
    id: newId("dp"),
    amount: charge.amount - charge.amount_refunded,
    balance_transactions: [],
    charge: charge.id,
    created: now,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence_details: {
      ...dispute.evidence_details,
      due_by: now + 7 * 86400,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    is_charge_refundable: false,
    metadata: {},
    payment_intent: typeof charge.payment_intent === "string" ? charge.payment_intent : null,
    reason: "fraudulent",
    status: "needs_response",
  } satisfies Partial<Stripe.Dispute>);
  if (charge.payment_method_details?.type === "card" && dispute.payment_method_details?.card)
    dispute.payment_method_details.card.case_type = "chargeback";
  else delete dispute.payment_method_details;
  return dispute;
}

export function newEvent(
  type: Stripe.Event.Type,
  object: object,
  opts: {
    previous?: Record<string, unknown>;
    request?: { id: string | null; idempotency_key: string | null };
  } = {},
): Stripe.EventBase {
  return Object.assign(fixture("event"), {
    id: newId("evt"),
    api_version: Stripe.API_VERSION,
    created: unixNow(),
    data: {
      object: structuredClone(object),
      ...(opts.previous ? { previous_attributes: structuredClone(opts.previous) } : {}),
    },
    livemode: false,
    pending_webhooks: 1,
    request: opts.request ?? { id: null, idempotency_key: null },
    type,
  } satisfies Partial<Stripe.EventBase>);
}
