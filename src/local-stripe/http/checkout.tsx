import { Hono } from "hono";
import type Stripe from "stripe";
import { fromMinorUnits, toMinorUnits } from "../../pages/format.ts";
import type { Engine } from "../engine.ts";
import { payByBankTransfer, payWithCard } from "../flows/payments.ts";
import { type BuyerInput, CheckoutInputError, quote } from "../flows/quote.ts";
import { sweepExpired } from "../flows/sessions.ts";
import type { Quote } from "../quoteAmounts.ts";
import { TAX_TABLE } from "../taxes.ts";
import { CheckoutClosed, CheckoutForm, type FormValues } from "./checkoutPage.tsx";

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

  /** The amounts to show: the buyer's choices, or without them when they cannot be charged. */
  const shown = (session: Stripe.Checkout.Session, items: Stripe.LineItem[], input: BuyerInput) => {
    for (const tried of [
      input,
      { ...input, promotionCode: null, taxId: null },
      { ...input, promotionCode: null, taxId: null, amount: null },
    ]) {
      try {
        return quote(engine, session, items, tried);
      } catch (error) {
        if (!(error instanceof CheckoutInputError)) throw error;
      }
    }
    return null;
  };

  return new Hono()
    .get("/:id", (c) => {
      const { session, items } = load(c.req.param("id"));
      if (session?.status !== "open")
        return c.html(
          <CheckoutClosed session={session} items={items} />,
          session?.status === "complete" ? 200 : closed(session),
        );
      const values = initialValues(session, items);
      const input = buyerInput(session, values);
      return c.html(
        <CheckoutForm
          session={session}
          items={items}
          values={values}
          quote={input ? shown(session, items, input) : null}
        />,
      );
    })
    .post("/:id", async (c) => {
      const { session, items } = load(c.req.param("id"));
      if (session?.status !== "open")
        return c.html(<CheckoutClosed session={session} items={items} />, closed(session));
      const form = await c.req.parseBody();
      const text = (name: string) => (typeof form[name] === "string" ? form[name].trim() : "");
      const values: FormValues = {
        email: text("email"),
        cardNumber: text("card_number"),
        promotionCode: text("promotion_code"),
        country: text("country"),
        taxId: text("tax_id"),
        amount: text("amount"),
      };
      const method = text("method") || "card";
      const input = buyerInput(session, values);
      const page = (status: 200 | 400 | 402, error?: string) =>
        c.html(
          <CheckoutForm
            session={session}
            items={items}
            values={values}
            quote={shown(session, items, input ?? { ...emptyInput, country: values.country })}
            {...(error ? { error } : {})}
          />,
          status,
        );

      if (!input) return page(400, "Enter an amount such as 12.50.");
      let agreed: Quote;
      try {
        agreed = quote(engine, session, items, input);
      } catch (error) {
        if (error instanceof CheckoutInputError) return page(400, error.message);
        throw error;
      }
      // "Apply" re-prices the page (code, country, amount) without paying.
      if (method === "update") return page(200);
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email))
        return page(400, "Enter your email address, e.g. buyer@example.com.");
      if (method === "card") {
        const digits = values.cardNumber.replace(/[\s-]/g, "");
        if (digits === DECLINED) {
          engine.log.info("local checkout: card declined", { session: session.id });
          return page(402, "Your card was declined.");
        }
        if (digits !== PAYS)
          return page(
            400,
            "Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.",
          );
        engine.mutate(() => payWithCard(engine, session.id, values.email, input));
      } else if (method === "bank_transfer" || method === "bank_transfer_fail") {
        if (session.mode !== "payment")
          return page(400, "Subscriptions are paid by card in the local checkout.");
        const outcome = method === "bank_transfer" ? "succeeded" : "failed";
        engine.mutate(() => payByBankTransfer(engine, session.id, values.email, outcome, input));
      } else {
        return page(400, "Choose a way to pay.");
      }
      engine.log.info("local checkout: completed", {
        session: session.id,
        method,
        total: agreed.total,
      });
      const next = session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
      return c.redirect(next ?? `/checkout/${session.id}`, 303);
    });
}

const emptyInput: BuyerInput = { promotionCode: null, country: null, taxId: null, amount: null };

/** The form as first shown: the session's email, the first country, the preset amount. */
function initialValues(session: Stripe.Checkout.Session, items: Stripe.LineItem[]): FormValues {
  const custom = items.find((item) => item.price?.custom_unit_amount)?.price?.custom_unit_amount;
  const preset = custom ? (custom.preset ?? custom.minimum) : null;
  return {
    email: session.customer_email ?? "",
    cardNumber: "",
    promotionCode: "",
    country: session.automatic_tax.enabled ? (TAX_TABLE[0]?.country ?? "") : "",
    taxId: "",
    amount:
      preset !== null && preset !== undefined
        ? fromMinorUnits(preset, session.currency ?? "usd")
        : "",
  };
}

/** The form's choices as the quote takes them; null when the amount is not a number. */
function buyerInput(session: Stripe.Checkout.Session, values: FormValues): BuyerInput | null {
  let amount: number | null = null;
  if (values.amount !== "") {
    amount = toMinorUnits(values.amount, session.currency ?? "usd");
    if (amount === null) return null;
  }
  return {
    promotionCode: values.promotionCode || null,
    country: values.country || null,
    taxId: values.taxId || null,
    amount,
  };
}
