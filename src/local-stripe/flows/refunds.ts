import type Stripe from "stripe";
import type { Engine, RequestInfo } from "../engine.ts";
import { badRequest } from "../errors.ts";
import { newRefund } from "../objects.ts";

export interface RefundInput {
  charge?: string;
  paymentIntent?: string;
  /** Minor units; the unrefunded rest when absent. */
  amount?: number;
  reason?: Stripe.Refund.Reason;
  metadata?: Record<string, string>;
}

/** The charge a refund or dispute is about, from a charge id or a payment intent id. */
export function chargeOf(
  engine: Engine,
  target: { charge?: string; paymentIntent?: string },
): Stripe.Charge {
  if (target.charge) return engine.charge(target.charge);
  if (!target.paymentIntent)
    throw badRequest("One of `charge` or `payment_intent` is required.", "charge");
  const intent = engine.paymentIntent(target.paymentIntent);
  const chargeId = typeof intent.latest_charge === "string" ? intent.latest_charge : null;
  if (!chargeId || intent.status !== "succeeded")
    throw badRequest(
      `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
      "payment_intent",
      "charge_not_refundable",
    );
  return engine.charge(chargeId);
}

/** A succeeded refund: the charge records it, then `charge.refunded` and `refund.created`. */
export function createRefund(
  engine: Engine,
  input: RefundInput,
  request?: RequestInfo,
): Stripe.Refund {
  const charge = chargeOf(engine, input);
  const unrefunded = charge.amount - charge.amount_refunded;
  if (charge.disputed)
    throw badRequest(
      `Charge ${charge.id} has been charged back; cannot issue a refund.`,
      "charge",
      "charge_disputed",
    );
  if (unrefunded <= 0)
    throw badRequest(
      `Charge ${charge.id} has already been refunded.`,
      "charge",
      "charge_already_refunded",
    );
  const amount = input.amount ?? unrefunded;
  if (amount > unrefunded)
    throw badRequest(
      `Refund amount (${amount}) is greater than unrefunded amount on charge (${unrefunded})`,
      "amount",
      "amount_too_large",
    );
  const refund = newRefund(charge, amount, input.reason ?? null, input.metadata ?? {});
  engine.state.refunds[refund.id] = refund;
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded >= charge.amount;
  charge.refunds?.data.unshift(structuredClone(refund));
  const opts = request ? { request } : {};
  engine.emit("charge.refunded", charge, { previous, ...opts });
  engine.emit("refund.created", refund, opts);
  return refund;
}
