import type Stripe from "stripe";
import { newDiscount } from "../discountObjects.ts";
import type { Engine } from "../engine.ts";
import { badRequest } from "../errors.ts";
import { customerDetails, newCustomer, newPaymentIntent } from "../objects.ts";
import type { Quote } from "../quoteAmounts.ts";
import { chargeIntent } from "./charges.ts";
import { invoicePayment } from "./invoices.ts";
import { type BuyerInput, quote } from "./quote.ts";
import { startSubscription } from "./subscriptions.ts";

/** The session can still be paid, or a 400 that says why not. */
function openSession(engine: Engine, id: string): Stripe.Checkout.Session {
  const session = engine.session(id);
  if (session.status !== "open")
    throw badRequest(`This Checkout Session is ${session.status}.`, "session");
  return session;
}

function complete(session: Stripe.Checkout.Session, email: string, agreed: Quote) {
  session.status = "complete";
  session.customer_details = customerDetails(email, agreed);
  session.url = null;
}

/**
 * The buyer's choices (promotion code, country, tax ID, amount) fix what the session charges: its
 * totals, its line items' amounts, its discount. Throws CheckoutInputError when they cannot.
 */
function applyQuote(engine: Engine, session: Stripe.Checkout.Session, input: BuyerInput): Quote {
  const items = engine.state.lineItems[session.id] ?? [];
  const agreed = quote(engine, session, items, input);
  items.forEach((item, i) => {
    const line = agreed.lines[i];
    if (!line) return;
    Object.assign(item, {
      amount_subtotal: line.subtotal,
      amount_discount: line.discount,
      amount_tax: line.tax,
      amount_total: line.total,
    });
  });
  Object.assign(session, {
    amount_subtotal: agreed.subtotal,
    amount_total: agreed.total,
    total_details: { amount_discount: agreed.discount, amount_shipping: 0, amount_tax: agreed.tax },
  } satisfies Partial<Stripe.Checkout.Session>);
  if (agreed.automaticTax) session.automatic_tax.status = "complete";
  if (agreed.coupon) {
    const discount = newDiscount({
      coupon: agreed.coupon,
      promotionCode: agreed.promotionCode,
      checkoutSession: session.id,
      customer: null,
    });
    engine.state.discounts[discount.id] = discount;
    agreed.discountId = discount.id;
    session.discounts = [{ coupon: agreed.coupon, promotion_code: agreed.promotionCode }];
    const coupon = engine.state.coupons[agreed.coupon];
    if (coupon) coupon.times_redeemed++;
    const code = agreed.promotionCode ? engine.state.promotionCodes[agreed.promotionCode] : null;
    if (code) code.times_redeemed++;
  }
  const setup = engine.state.checkoutSetup[session.id];
  if (setup) setup.quote = agreed;
  return agreed;
}

/** A card that pays: one-time sessions get a payment intent and charge, subscriptions start. */
export function payWithCard(
  engine: Engine,
  id: string,
  email: string,
  input: BuyerInput,
): Stripe.Checkout.Session {
  const session = openSession(engine, id);
  const agreed = applyQuote(engine, session, input);
  if (session.mode === "subscription") {
    const started = startSubscription(engine, session, email);
    complete(session, email, agreed);
    Object.assign(session, {
      payment_status: "paid",
      customer: started.customer.id,
      subscription: started.subscription.id,
      invoice: started.invoice.id,
    } satisfies Partial<Stripe.Checkout.Session>);
    engine.emit("customer.subscription.created", started.subscription);
    engine.emit("invoice.paid", started.invoice);
    engine.emit("invoice.payment_succeeded", started.invoice);
    engine.emit("checkout.session.completed", session);
    return session;
  }
  const intent = createIntent(engine, session, "card", "succeeded");
  const customer = invoiceCustomer(engine, session, intent, email, agreed);
  const charge = chargeIntent(engine, intent, email);
  complete(session, email, agreed);
  session.payment_status = "paid";
  engine.emit("payment_intent.succeeded", intent);
  engine.emit("charge.succeeded", charge);
  if (customer) invoicePayment(engine, session, customer, intent);
  engine.emit("checkout.session.completed", session);
  return session;
}

/**
 * A bank debit: the session completes unpaid with the payment intent processing, and the money
 * arrives (or does not) `asyncDelayMs` later, when `settle` runs.
 */
export function payByBankTransfer(
  engine: Engine,
  id: string,
  email: string,
  outcome: "succeeded" | "failed",
  input: BuyerInput,
): Stripe.Checkout.Session {
  const session = openSession(engine, id);
  if (session.mode !== "payment")
    throw badRequest("Bank transfers are available for one-time payments only.", "session");
  const agreed = applyQuote(engine, session, input);
  const intent = createIntent(engine, session, "us_bank_account", "processing");
  invoiceCustomer(engine, session, intent, email, agreed);
  complete(session, email, agreed);
  session.payment_status = "unpaid";
  engine.state.settlements.push({
    sessionId: session.id,
    outcome,
    dueAt: Date.now() + engine.asyncDelayMs,
  });
  engine.emit("checkout.session.completed", session);
  return session;
}

/** The bank's answer to a transfer started by `payByBankTransfer`. */
export function settle(engine: Engine, sessionId: string, outcome: "succeeded" | "failed") {
  engine.state.settlements = engine.state.settlements.filter((s) => s.sessionId !== sessionId);
  const session = engine.state.sessions[sessionId];
  const intentId = typeof session?.payment_intent === "string" ? session.payment_intent : null;
  const intent = intentId ? engine.state.paymentIntents[intentId] : undefined;
  if (!session || !intent || intent.status !== "processing") return;
  if (outcome === "succeeded") {
    const charge = chargeIntent(engine, intent, session.customer_details?.email ?? null);
    session.payment_status = "paid";
    engine.emit("payment_intent.succeeded", intent);
    engine.emit("charge.succeeded", charge);
    const customer =
      typeof session.customer === "string" ? engine.state.customers[session.customer] : undefined;
    if (customer && session.invoice_creation?.enabled)
      invoicePayment(engine, session, customer, intent);
    engine.emit("checkout.session.async_payment_succeeded", session);
  } else {
    intent.status = "requires_payment_method";
    intent.last_payment_error = {
      code: "payment_method_provider_decline",
      message: "The customer's bank declined the transfer.",
      payment_method_type: "us_bank_account",
      type: "invalid_request_error",
    } as Stripe.PaymentIntent.LastPaymentError;
    engine.emit("payment_intent.payment_failed", intent);
    engine.emit("checkout.session.async_payment_failed", session);
  }
}

function createIntent(
  engine: Engine,
  session: Stripe.Checkout.Session,
  methodType: "card" | "us_bank_account",
  status: "succeeded" | "processing",
): Stripe.PaymentIntent {
  const setup = engine.state.checkoutSetup[session.id]?.paymentIntentData;
  const intent = newPaymentIntent({
    amount: session.amount_total ?? 0,
    currency: session.currency ?? "usd",
    customer: null,
    description: setup?.description ?? null,
    metadata: setup?.metadata ?? {},
    methodType,
    status,
  });
  engine.state.paymentIntents[intent.id] = intent;
  session.payment_intent = intent.id;
  return intent;
}

/**
 * A post-purchase invoice needs a customer, so Checkout makes one (`customer_creation:
 * if_required`) and the payment intent is the customer's.
 */
function invoiceCustomer(
  engine: Engine,
  session: Stripe.Checkout.Session,
  intent: Stripe.PaymentIntent,
  email: string,
  agreed: Quote,
): Stripe.Customer | null {
  if (!session.invoice_creation?.enabled) return null;
  const customer = newCustomer(email, agreed);
  engine.state.customers[customer.id] = customer;
  session.customer = customer.id;
  intent.customer = customer.id;
  return customer;
}
