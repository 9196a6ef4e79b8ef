import { Hono } from "hono";
import type Stripe from "stripe";
import type { Engine } from "../engine.ts";
import { payByBankTransfer, payWithCard } from "../flows/payments.ts";
import { sweepExpired } from "../flows/sessions.ts";
import { CheckoutClosed, CheckoutForm } from "./checkoutPage.tsx";

const PAYS = "4242424242424242";
const DECLINED = "4000000000000002";

/** The hosted checkout page a session's `url` points to. */
export function checkoutRoutes(engine: Engine) {
  const load = (id: string) => {
    if (sweepExpired(engine) > 0) engine.commit();
    const session = engine.state.sessions[id] ?? null;
    return { session, items: session ? (engine.state.lineItems[id] ?? []) : [] };
  };
  const closed = (session: Stripe.Checkout.Session | null) =>
    !session ? 404 : session.status === "expired" ? 410 : 409;

  return new Hono()
    .get("/:id", (c) => {
      const { session, items } = load(c.req.param("id"));
      if (session?.status !== "open")
        return c.html(
          <CheckoutClosed session={session} items={items} />,
          session?.status === "complete" ? 200 : closed(session),
        );
      return c.html(
        <CheckoutForm session={session} items={items} email={session.customer_email ?? ""} />,
      );
    })
    .post("/:id", async (c) => {
      const { session, items } = load(c.req.param("id"));
      if (session?.status !== "open")
        return c.html(<CheckoutClosed session={session} items={items} />, closed(session));
      const form = await c.req.parseBody();
      const text = (name: string) => (typeof form[name] === "string" ? form[name].trim() : "");
      const email = text("email");
      const cardNumber = text("card_number");
      const method = text("method") || "card";
      const again = (status: 400 | 402, error: string) =>
        c.html(
          <CheckoutForm
            session={session}
            items={items}
            email={email}
            cardNumber={cardNumber}
            error={error}
          />,
          status,
        );

      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
        return again(400, "Enter your email address, e.g. buyer@example.com.");
      if (method === "card") {
        const digits = cardNumber.replace(/[\s-]/g, "");
        if (digits === DECLINED) {
          engine.log.info("local checkout: card declined", { session: session.id });
          return again(402, "Your card was declined.");
        }
        if (digits !== PAYS)
          return again(
            400,
            "Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.",
          );
        engine.mutate(() => payWithCard(engine, session.id, email));
      } else if (method === "bank_transfer" || method === "bank_transfer_fail") {
        if (session.mode !== "payment")
          return again(400, "Subscriptions are paid by card in the local checkout.");
        const outcome = method === "bank_transfer" ? "succeeded" : "failed";
        engine.mutate(() => payByBankTransfer(engine, session.id, email, outcome));
      } else {
        return again(400, "Choose a way to pay.");
      }
      engine.log.info("local checkout: completed", { session: session.id, method });
      const next = session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
      return c.redirect(next ?? `/checkout/${session.id}`, 303);
    });
}
