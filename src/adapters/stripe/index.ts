import type Stripe from "stripe";
import { conflict, invalidInput } from "../../core/errors.ts";
import type {
  CheckoutRequest,
  CheckoutView,
  ChosenPriceRequest,
  PaymentReceiptRef,
  Payments,
  ProviderEvent,
  ReceiptLink,
} from "../../core/ports.ts";
import { createStripeClient, subtleCryptoProvider } from "./client.ts";
import {
  checkoutView,
  HANDLED_EVENT_TYPES,
  idOf,
  type StripeLookups,
  translateEvent,
  translatesOffline,
} from "./translate.ts";

export interface StripePaymentsOptions {
  secretKey: string;
  webhookSecret: string;
  apiUrl?: string;
  /** Workers: fetch client and the async signature check; Node: the faster sync check. */
  runtime: "node" | "workers";
}

/** Seconds a webhook's timestamp may be away from now, in either direction. */
export const WEBHOOK_TOLERANCE_S = 300;

/** Payments through Stripe (or anything that speaks its API, like the local Stripe). */
export function stripePayments(opts: StripePaymentsOptions): Payments {
  const stripe = createStripeClient({
    secretKey: opts.secretKey,
    apiUrl: opts.apiUrl,
    useFetch: opts.runtime === "workers",
  });
  const webhookCrypto = opts.runtime === "workers" ? subtleCryptoProvider() : undefined;

  const lookups: StripeLookups = {
    async paymentIntentOfCharge(chargeId) {
      if (!chargeId) return null;
      return idOf((await stripe.charges.retrieve(chargeId)).payment_intent);
    },
    async paymentRef(paymentIntentId) {
      const none = { paymentIntentId, orderId: null, subscriptionId: null };
      // Stripe not knowing the payment (4xx) leaves the ids the event carries; an outage throws,
      // so the event fails and is retried.
      const known = <T>(call: Promise<T>) =>
        call.catch((e) => (isClientError(e) ? null : Promise.reject(e)));
      const intent = await known(stripe.paymentIntents.retrieve(paymentIntentId));
      const orderId = intent?.metadata?.order ?? null;
      if (orderId) return { ...none, orderId };
      // A subscription's invoices are paid by payment intents without our metadata.
      const payments = await known(
        stripe.invoicePayments.list({
          payment: { type: "payment_intent", payment_intent: paymentIntentId },
          limit: 1,
        }),
      );
      const invoiceId = idOf(payments?.data[0]?.invoice);
      if (!invoiceId) return none;
      const details = (await known(stripe.invoices.retrieve(invoiceId)))?.parent
        ?.subscription_details;
      return {
        ...none,
        orderId: details?.metadata?.order ?? null,
        subscriptionId: idOf(details?.subscription),
      };
    },
  };

  async function retrieveCheckout(sessionId: string): Promise<CheckoutView | null> {
    try {
      return checkoutView(
        await stripe.checkout.sessions.retrieve(sessionId, {
          expand: ["line_items", "subscription"],
        }),
      );
    } catch (error) {
      if (isClientError(error)) return null;
      throw error;
    }
  }

  /**
   * The invoice's hosted page (a subscription's latest invoice, or the one Checkout made when
   * invoice creation is on), else the receipt of the payment intent's charge. Only reads: nothing
   * here runs on the webhook path, only when a buyer opens the link.
   */
  async function receiptLink(ref: PaymentReceiptRef): Promise<ReceiptLink | null> {
    const known = <T>(call: Promise<T>) =>
      call.catch((e) => (isClientError(e) ? null : Promise.reject(e)));
    let invoiceId: string | null = null;
    let intentId = ref.paymentIntentId;
    if (ref.checkoutSessionId) {
      const session = await known(
        stripe.checkout.sessions.retrieve(ref.checkoutSessionId, { expand: ["subscription"] }),
      );
      const subscription = session?.subscription;
      invoiceId =
        (typeof subscription === "object" && subscription
          ? idOf(subscription.latest_invoice)
          : null) ?? idOf(session?.invoice);
      intentId ??= idOf(session?.payment_intent);
    }
    if (invoiceId) {
      const url = (await known(stripe.invoices.retrieve(invoiceId)))?.hosted_invoice_url;
      if (url) return { url, kind: "invoice" };
    }
    if (!intentId) return null;
    const chargeId = idOf((await known(stripe.paymentIntents.retrieve(intentId)))?.latest_charge);
    const url = chargeId ? (await known(stripe.charges.retrieve(chargeId)))?.receipt_url : null;
    return url ? { url, kind: "receipt" } : null;
  }

  const providerEvent = (event: Stripe.Event, payload: string): ProviderEvent => ({
    id: event.id,
    type: event.type,
    livemode: event.livemode,
    payload,
    translate: () => translateEvent(event, lookups),
    translatesOffline: translatesOffline(event.type),
  });

  return {
    livemode: /^(sk|rk)_live_/.test(opts.secretKey),

    async createCheckout(request: CheckoutRequest) {
      const session = await stripe.checkout.sessions.create(checkoutParams(request));
      if (!session.url) throw new Error("Stripe returned a checkout session without a URL");
      return { id: session.id, url: session.url };
    },

    async createChosenPrice(price: ChosenPriceRequest) {
      const created = await stripe.prices.create({
        currency: price.currency,
        custom_unit_amount: { enabled: true, minimum: price.minimum, preset: price.suggested },
        product_data: { name: price.name, ...(price.taxCode ? { tax_code: price.taxCode } : {}) },
        ...(price.taxBehavior ? { tax_behavior: price.taxBehavior } : {}),
      });
      return created.id;
    },

    async taxRegistrations() {
      try {
        const active = await stripe.tax.registrations.list({ status: "active", limit: 100 });
        return active.data.length;
      } catch (error) {
        // A server without Stripe Tax (the local Stripe, a mock) does not know the endpoint.
        if ((error as { statusCode?: number }).statusCode === 404) return null;
        throw error;
      }
    },

    retrieveCheckout,

    receiptLink,

    async refund(paymentIntentId: string) {
      try {
        await stripe.refunds.create({ payment_intent: paymentIntentId });
      } catch (error) {
        // Stripe refusing (already refunded, disputed, ...) is the seller's to read, not an outage.
        if (isClientError(error))
          throw conflict(`Stripe refused the refund: ${(error as Error).message}`);
        throw error;
      }
    },

    events: {
      async verify(rawBody, signatureHeader, nowMs) {
        if (!signatureHeader) throw invalidInput("Missing Stripe-Signature header.");
        // The SDK checks the signature (and refuses old timestamps); its reasons stay in the log,
        // the sender only learns that the signature is not good, in our words.
        try {
          const args = [
            rawBody,
            signatureHeader,
            opts.webhookSecret,
            WEBHOOK_TOLERANCE_S,
            webhookCrypto,
            nowMs,
          ] as const;
          const signature = stripe.webhooks.signature;
          if (!signature) throw new Error("the SDK has no signature helper");
          if (opts.runtime === "workers") await signature.verifyHeaderAsync(...args);
          else signature.verifyHeader(...args);
        } catch (error) {
          throw badSignature(error instanceof Error ? error.message : String(error));
        }
        // The SDK refuses old timestamps; a timestamp from the future is just as suspect.
        const timestamp = Number(/(?:^|,)t=(\d+)/.exec(signatureHeader)?.[1]);
        if (!(timestamp * 1000 <= nowMs + WEBHOOK_TOLERANCE_S * 1000))
          throw badSignature("timestamp is in the future");
        let event: unknown;
        try {
          event = JSON.parse(rawBody);
        } catch {
          throw invalidInput("The webhook body is not valid JSON.");
        }
        if (!isEvent(event)) throw invalidInput("The webhook body is not a Stripe event.");
        return providerEvent(event, rawBody);
      },

      fromStored(payload) {
        return providerEvent(JSON.parse(payload) as Stripe.Event, payload);
      },

      async *listSince(sinceMs) {
        const events = await stripe.events
          .list({
            created: { gte: Math.floor(sinceMs / 1000) },
            types: [...HANDLED_EVENT_TYPES],
            limit: 100,
          })
          .autoPagingToArray({ limit: 10_000 });
        for (const event of events.reverse()) yield providerEvent(event, JSON.stringify(event));
      },
    },
  };
}

/**
 * The Checkout Session for a request: the one line item, our ids, and each of the shop's
 * Checkout settings only when it is on (Stripe refuses invoice_creation on a subscription, which
 * has its invoices anyway). With automatic tax the price says whether it includes tax and the
 * product carries its tax code.
 */
export function checkoutParams(request: CheckoutRequest): Stripe.Checkout.SessionCreateParams {
  const { item, options } = request;
  const tax = options.automaticTax;
  const lineItem: Stripe.Checkout.SessionCreateParams.LineItem = item.priceId
    ? { price: item.priceId, quantity: 1 }
    : {
        quantity: 1,
        price_data: {
          currency: item.currency,
          unit_amount: item.unitAmount,
          product_data: {
            name: item.name,
            ...(tax && item.taxCode ? { tax_code: item.taxCode } : {}),
          },
          ...(tax ? { tax_behavior: options.taxBehavior } : {}),
          ...(request.mode === "subscription" && item.interval
            ? {
                recurring: {
                  interval:
                    item.interval as Stripe.Checkout.SessionCreateParams.LineItem.PriceData.Recurring.Interval,
                },
              }
            : {}),
        },
      };
  return {
    mode: request.mode,
    line_items: [lineItem],
    metadata: request.metadata,
    ...(request.mode === "subscription"
      ? { subscription_data: { metadata: request.metadata } }
      : { payment_intent_data: { metadata: request.metadata } }),
    ...(request.clientReferenceId ? { client_reference_id: request.clientReferenceId } : {}),
    ...(request.customerEmail ? { customer_email: request.customerEmail } : {}),
    ...(tax ? { automatic_tax: { enabled: true } } : {}),
    ...(options.taxIdCollection ? { tax_id_collection: { enabled: true } } : {}),
    ...(options.invoiceCreation && request.mode === "payment"
      ? { invoice_creation: { enabled: true } }
      : {}),
    ...(options.promotionCodes ? { allow_promotion_codes: true } : {}),
    success_url: request.successUrl,
    cancel_url: request.cancelUrl,
  };
}

/** Every bad signature gets the same answer; why the SDK refused it is kept for the log. */
export const BAD_SIGNATURE = "Invalid Stripe signature.";

function badSignature(reason: string) {
  return invalidInput(BAD_SIGNATURE, { reason: reason.split("\n")[0]?.slice(0, 200) });
}

/**
 * What every Stripe event is: an object with an id, a type, a mode and the object it is about.
 * A signed body that is anything else (`[]`, `null`, `{}`) is refused before anything is written.
 */
function isEvent(value: unknown): value is Stripe.Event {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const event = value as Record<string, unknown>;
  const data = event.data as Record<string, unknown> | null | undefined;
  return (
    typeof event.id === "string" &&
    event.id.length > 0 &&
    event.id.length <= 255 &&
    typeof event.type === "string" &&
    event.type.length > 0 &&
    event.type.length <= 255 &&
    typeof event.livemode === "boolean" &&
    typeof data === "object" &&
    data !== null &&
    typeof data.object === "object" &&
    data.object !== null &&
    !Array.isArray(data.object)
  );
}

/** Stripe answered 4xx: it does not know the object (or the mock we talk to does not). */
function isClientError(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  return status !== undefined && status >= 400 && status < 500 && status !== 401 && status !== 429;
}
