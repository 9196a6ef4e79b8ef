import { type Context, Hono } from "hono";
import { formatDate, formatPrice } from "../../pages/format.ts";
import type { Engine } from "../engine.ts";
import { badRequest, StripeApiError } from "../errors.ts";
import { closeDispute, openDispute } from "../flows/disputes.ts";
import { settle } from "../flows/payments.ts";
import { createRefund } from "../flows/refunds.ts";
import { expireSession } from "../flows/sessions.ts";
import {
  cancelSubscription,
  payOpenInvoice,
  renewSubscription,
  updateSubscription,
} from "../flows/subscriptions.ts";

/**
 * Local-only triggers for what a buyer, a bank or time does on Stripe's side: refunds, disputes,
 * renewals, cancellations, expiry, a bank transfer settling now. Each answers
 * `{ message, events, object }`. They take JSON only, so a web page cannot fire them with a plain
 * cross-site form.
 */
export function triggerRoutes(engine: Engine) {
  const body = async (c: Context): Promise<Record<string, unknown>> => {
    if (!/^application\/json/i.test(c.req.header("content-type") ?? ""))
      throw new StripeApiError(415, "Send a JSON body with Content-Type: application/json.");
    const text = await c.req.text();
    if (!text.trim()) return {};
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === "object" && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {}
    throw badRequest("The body must be a JSON object.");
  };
  /** Runs one change and reports it with the types of the events it emitted. */
  const run = <T extends object>(c: Context, change: () => T, message: (result: T) => string) => {
    const before = engine.state.events.length;
    const result = engine.mutate(change);
    const events = engine.state.events.slice(before).map((e) => e.type);
    const sent = events.length ? ` Sent ${events.join(", ")}.` : "";
    return c.json({ message: `${message(result)}${sent}`, events, object: result });
  };

  const chargeTarget = (id: string) => {
    if (id.startsWith("ch_")) return { charge: id };
    if (id.startsWith("pi_")) return { paymentIntent: id };
    if (id.startsWith("cs_")) {
      const session = engine.session(id);
      if (session.mode === "subscription") {
        const subscription = engine.subscription(subscriptionOf(id));
        const invoice = String(subscription.latest_invoice ?? "");
        const intent = engine.state.invoicePayments[invoice];
        if (intent) return { paymentIntent: intent };
      } else if (typeof session.payment_intent === "string") {
        return { paymentIntent: session.payment_intent };
      }
      throw badRequest(`Checkout Session ${id} has not been paid.`, "id");
    }
    throw badRequest(
      `Give a Checkout Session (cs_...), payment intent (pi_...) or charge (ch_...) id, not "${id}".`,
      "id",
    );
  };
  const subscriptionOf = (id: string): string => {
    if (id.startsWith("sub_")) return id;
    if (id.startsWith("cs_")) {
      const session = engine.session(id);
      if (typeof session.subscription === "string") return session.subscription;
      throw badRequest(`Checkout Session ${id} has no subscription (yet).`, "id");
    }
    throw badRequest(`Give a subscription (sub_...) or Checkout Session (cs_...) id.`, "id");
  };
  const int = (value: unknown, name: string) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
      throw badRequest(`${name} must be a whole number of minor units, at least 1.`, name);
    return value;
  };

  return new Hono()
    .get("/status", (c) =>
      c.json({
        events: engine.state.events.length,
        pendingDeliveries: engine.state.deliveries.map((d) => ({
          event: d.eventId,
          attempts: d.attempts,
          nextAttemptAt: new Date(d.nextAttemptAt).toISOString(),
        })),
        pendingSettlements: engine.state.settlements.length,
      }),
    )
    .post("/refunds", async (c) => {
      const input = await body(c);
      const amount = int(input.amount, "amount");
      return run(
        c,
        () =>
          createRefund(engine, {
            ...chargeTarget(String(input.id ?? "")),
            ...(amount ? { amount } : {}),
            reason: "requested_by_customer",
          }),
        (r) =>
          `Refunded ${formatPrice(r.amount, r.currency)} of ${r.payment_intent ?? r.charge} (${r.id}).`,
      );
    })
    .post("/disputes", async (c) => {
      const input = await body(c);
      return run(
        c,
        () => openDispute(engine, chargeTarget(String(input.id ?? ""))),
        (d) =>
          `Opened dispute ${d.id} for ${formatPrice(d.amount, d.currency)} on ${d.payment_intent ?? d.charge} (status ${d.status}).`,
      );
    })
    .post("/disputes/:id/close", async (c) => {
      const input = await body(c);
      const outcome = input.outcome;
      if (outcome !== "won" && outcome !== "lost" && outcome !== "warning_closed")
        throw badRequest('outcome must be "won", "lost" or "warning_closed".', "outcome");
      return run(
        c,
        () => closeDispute(engine, c.req.param("id"), outcome),
        (d) => `Closed dispute ${d.id}: ${d.status}.`,
      );
    })
    .post("/subscriptions/:id/renew", async (c) => {
      const input = await body(c);
      if (input.fail !== undefined && typeof input.fail !== "boolean")
        throw badRequest("fail must be true or false.", "fail");
      const fail = input.fail === true;
      const id = subscriptionOf(c.req.param("id"));
      return run(
        c,
        () => renewSubscription(engine, id, { fail }),
        ({ subscription, invoice }) => {
          const item = subscription.items.data[0];
          const period = `${formatDate((item?.current_period_start ?? 0) * 1000)} to ${formatDate((item?.current_period_end ?? 0) * 1000)}`;
          if (!invoice)
            return `Ended ${subscription.id}: it was set to cancel at the end of its period.`;
          return fail
            ? `Renewal of ${subscription.id} declined: invoice ${invoice.id} for ${period} is open and the subscription past_due.`
            : `Renewed ${subscription.id}: invoice ${invoice.id} paid ${formatPrice(invoice.total, invoice.currency)} for ${period}.`;
        },
      );
    })
    .post("/invoices/:id/pay", async (c) => {
      await body(c);
      return run(
        c,
        () => payOpenInvoice(engine, c.req.param("id")),
        (invoice) => `Paid invoice ${invoice.id}: ${formatPrice(invoice.total, invoice.currency)}.`,
      );
    })
    .post("/subscriptions/:id/cancel", async (c) => {
      const input = await body(c);
      const id = subscriptionOf(c.req.param("id"));
      if (input.at_period_end === true)
        return run(
          c,
          () => updateSubscription(engine, id, { cancelAtPeriodEnd: true }),
          (s) =>
            `${s.id} will cancel at the end of its period, ${formatDate((s.cancel_at ?? 0) * 1000)}.`,
        );
      return run(
        c,
        () => cancelSubscription(engine, id),
        (s) => `Canceled ${s.id} now.`,
      );
    })
    .post("/sessions/:id/settle", async (c) => {
      await body(c);
      const id = c.req.param("id");
      const due = engine.state.settlements.find((s) => s.sessionId === id);
      if (!due) throw badRequest(`Checkout Session ${id} has no bank transfer waiting.`, "id");
      return run(
        c,
        () => {
          settle(engine, id, due.outcome);
          return engine.session(id);
        },
        () => `Settled the bank transfer of ${id}: ${due.outcome}.`,
      );
    })
    .post("/sessions/:id/expire", async (c) => {
      await body(c);
      return run(
        c,
        () => expireSession(engine, c.req.param("id")),
        (s) => `Expired ${s.id}.`,
      );
    });
}
