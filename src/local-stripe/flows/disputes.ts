import type Stripe from "stripe";
import type { Engine } from "../engine.ts";
import { badRequest } from "../errors.ts";
import { newDispute } from "../objects.ts";
import { chargeOf } from "./refunds.ts";

const OPEN = ["needs_response", "under_review", "warning_needs_response", "warning_under_review"];

/** The buyer's bank disputes the charge: `charge.dispute.created`, status `needs_response`. */
export function openDispute(
  engine: Engine,
  target: { charge?: string; paymentIntent?: string },
): Stripe.Dispute {
  const charge = chargeOf(engine, target);
  const open = Object.values(engine.state.disputes).find(
    (d) => d.charge === charge.id && OPEN.includes(d.status),
  );
  if (open) throw badRequest(`Charge ${charge.id} already has an open dispute (${open.id}).`);
  if (charge.amount_refunded >= charge.amount)
    throw badRequest(`Charge ${charge.id} was refunded in full; there is nothing to dispute.`);
  const dispute = newDispute(charge);
  engine.state.disputes[dispute.id] = dispute;
  charge.disputed = true;
  engine.emit("charge.dispute.created", dispute);
  return dispute;
}

/** The bank decides: `charge.dispute.closed` with status `won` or `lost`. */
/**
 * Closes an open dispute: `won` and `lost` end a chargeback; `warning_closed` ends an inquiry
 * that never became one (the seller keeps the money), as Stripe's charge.dispute.closed says.
 */
export function closeDispute(
  engine: Engine,
  id: string,
  outcome: "won" | "lost" | "warning_closed",
): Stripe.Dispute {
  const dispute = engine.dispute(id);
  if (!OPEN.includes(dispute.status))
    throw badRequest(`Dispute ${id} is already closed (${dispute.status}).`, "dispute");
  const previous = { status: dispute.status };
  dispute.status = outcome;
  engine.emit("charge.dispute.closed", dispute, { previous });
  return dispute;
}
