import type Stripe from "stripe";
import type { Engine } from "../engine.ts";
import { newCharge } from "../objects.ts";

/** The charge that moves the money of a succeeded (or now succeeding) payment intent. */
export function chargeIntent(
  engine: Engine,
  intent: Stripe.PaymentIntent,
  email: string | null,
): Stripe.Charge {
  intent.status = "succeeded";
  intent.amount_received = intent.amount;
  const charge = newCharge(intent, email);
  // Stripe's receipt page for the charge; ours is served by http/receipts.tsx.
  charge.receipt_url = engine.pageUrl(`/receipts/payment/${charge.id}`);
  engine.state.charges[charge.id] = charge;
  intent.latest_charge = charge.id;
  return charge;
}
