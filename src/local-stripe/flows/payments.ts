import type Stripe from "stripe";
import type { Engine } from "../engine.ts";
import { badRequest } from "../errors.ts";
import { customerDetails, newPaymentIntent } from "../objects.ts";
import { chargeIntent } from "./charges.ts";
import { startSubscription } from "./subscriptions.ts";

/** The session can still be paid, or a 400 that says why not. */
function openSession(engine: Engine, id: string): Stripe.Checkout.Session {
  const session = engine.session(id);
  if (session.status !== "open")
    throw badRequest(`This Checkout Session is ${session.status}.`, "session");
  return session;
}

function complete(session: Stripe.Checkout.Session, email: string) {
  session.status = "complete";
  session.customer_details = customerDetails(email);
  session.url = null;
}

/** A card that pays: one-time sessions get a payment intent and charge, subscriptions start. */
export function payWithCard(engine: Engine, id: string, email: string): Stripe.Checkout.Session {
  const session = openSession(engine, id);
  if (session.mode === "subscription") {
    const started = startSubscription(engine, session, email);
    complete(session, email);
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
  const charge = chargeIntent(engine, intent, email);
  complete(session, email);
  session.payment_status = "paid";
  engine.emit("payment_intent.succeeded", intent);
  engine.emit("charge.succeeded", charge);
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
): Stripe.Checkout.Session {
  const session = openSession(engine, id);
  if (session.mode !== "payment")
    throw badRequest("Bank transfers are available for one-time payments only.", "session");
  createIntent(engine, session, "us_bank_account", "processing");
  complete(session, email);
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
