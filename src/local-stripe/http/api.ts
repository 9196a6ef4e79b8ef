import { type Context, Hono } from "hono";
import type Stripe from "stripe";
import type { Engine, RequestInfo } from "../engine.ts";
import { badRequest, StripeApiError } from "../errors.ts";
import { fixture } from "../fixtures.ts";
import { createCoupon, createPromotionCode } from "../flows/promotions.ts";
import { createRefund } from "../flows/refunds.ts";
import { createPrice, createSession, expireSession, sweepExpired } from "../flows/sessions.ts";
import { cancelSubscription, updateSubscription } from "../flows/subscriptions.ts";
import { parseParams } from "../form.ts";
import { newId } from "../ids.ts";
import { newProduct } from "../objects.ts";
import { Reader } from "../params.ts";
import { couponInput, promotionCodeInput } from "./couponParams.ts";
import { expand, page } from "./expand.ts";
import { createdRange, pagination, priceData, refundInput, sessionInput } from "./params.ts";

type Env = { Variables: { request: RequestInfo } };

const BODY_LIMIT = 256 * 1024;

/** The subset of Stripe's `/v1` API Tollgate uses, as the official SDK calls it. */
export function apiRoutes(engine: Engine) {
  const idempotent = new Map<string, { fingerprint: string; status: number; body: string }>();

  const app = new Hono<Env>();

  app.use("*", async (c, next) => {
    checkKey(c.req.header("authorization"));
    const requestId = newId("req");
    c.header("Request-Id", requestId);
    c.set("request", { id: requestId, idempotency_key: c.req.header("idempotency-key") ?? null });
    // Stripe expires sessions on its own schedule; doing it here keeps reads exact.
    if (sweepExpired(engine) > 0) engine.commit();
    await next();
  });

  // Retried POSTs with the same Idempotency-Key get the first answer, as with Stripe.
  app.use("*", async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (c.req.method !== "POST" || !key) return next();
    const fingerprint = `${c.req.path} ${await c.req.text()}`;
    const seen = idempotent.get(key);
    if (seen) {
      if (seen.fingerprint !== fingerprint)
        throw new StripeApiError(
          400,
          "Keys for idempotent requests can only be used with the same parameters they were first used with.",
          { type: "idempotency_error" },
        );
      return new Response(seen.body, {
        status: seen.status,
        headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true" },
      });
    }
    await next();
    if (c.res.status < 500) {
      idempotent.set(key, { fingerprint, status: c.res.status, body: await c.res.clone().text() });
      if (idempotent.size > 1000) idempotent.delete(idempotent.keys().next().value as string);
    }
  });

  const reader = async (c: Context<Env>) => {
    const search = new URL(c.req.url).searchParams;
    if (c.req.method !== "GET") {
      const text = await c.req.text();
      if (text.length > BODY_LIMIT) throw badRequest("The request body is too large.");
      for (const [k, v] of new URLSearchParams(text)) search.append(k, v);
    }
    return new Reader(parseParams(search));
  };
  /** The object as the request asked for it: expansions applied, unknown parameters refused. */
  const reply = <T extends object>(c: Context<Env>, r: Reader, object: T) => {
    const paths = r.strings("expand") ?? [];
    r.done();
    return c.json(expand(engine, object, paths));
  };
  const retrieve = (get: (id: string) => object) => async (c: Context<Env>) => {
    const r = await reader(c);
    return reply(c, r, get(c.req.param("id") ?? ""));
  };

  app.post("/checkout/sessions", async (c) => {
    const r = await reader(c);
    const input = sessionInput(r);
    const origin = new URL(c.req.url).origin;
    r.strings("expand");
    r.done();
    const session = engine.mutate(() => createSession(engine, input, origin));
    return reply(c, r, session);
  });
  app.get("/checkout/sessions", async (c) => {
    const r = await reader(c);
    const filters = {
      payment_intent: r.string("payment_intent"),
      subscription: r.string("subscription"),
      customer: r.string("customer"),
      status: r.oneOf("status", ["open", "complete", "expired"]),
    };
    const sessions = Object.values(engine.state.sessions)
      .reverse()
      .filter(
        (s) =>
          (!filters.payment_intent || s.payment_intent === filters.payment_intent) &&
          (!filters.subscription || s.subscription === filters.subscription) &&
          (!filters.customer || s.customer === filters.customer) &&
          (!filters.status || s.status === filters.status),
      );
    return reply(c, r, page(sessions, { ...pagination(r), url: "/v1/checkout/sessions" }));
  });
  app.get(
    "/checkout/sessions/:id",
    retrieve((id) => engine.session(id)),
  );
  app.get("/checkout/sessions/:id/line_items", async (c) => {
    const r = await reader(c);
    const id = c.req.param("id");
    engine.session(id);
    const items = engine.state.lineItems[id] ?? [];
    return reply(
      c,
      r,
      page(items, { ...pagination(r), url: `/v1/checkout/sessions/${id}/line_items` }),
    );
  });
  app.post("/checkout/sessions/:id/expire", async (c) => {
    const r = await reader(c);
    r.strings("expand");
    r.done();
    const session = engine.mutate(() => expireSession(engine, c.req.param("id"), c.get("request")));
    return reply(c, r, session);
  });

  app.post("/products", async (c) => {
    const r = await reader(c);
    const product = newProduct({
      name: r.string("name", { required: true, max: 250 }),
      description: r.string("description") ?? null,
      metadata: r.metadata() ?? {},
    });
    r.strings("expand");
    r.done();
    engine.mutate(() => {
      engine.state.products[product.id] = product;
    });
    return reply(c, r, product);
  });
  app.get(
    "/products/:id",
    retrieve((id) => engine.state.products[id] ?? missingObject("product", id)),
  );
  app.post("/prices", async (c) => {
    const r = await reader(c);
    const data = priceData(r, { prices: true });
    const metadata = r.metadata();
    r.strings("expand");
    r.done();
    const price = engine.mutate(() => {
      const created = createPrice(engine, data, null);
      if (metadata) created.metadata = metadata;
      return created;
    });
    return reply(c, r, price);
  });
  app.get(
    "/prices/:id",
    retrieve((id) => engine.price(id, "id")),
  );

  app.post("/coupons", async (c) => {
    const r = await reader(c);
    const input = couponInput(r);
    r.strings("expand");
    r.done();
    return reply(
      c,
      r,
      engine.mutate(() => createCoupon(engine, input)),
    );
  });
  app.get(
    "/coupons/:id",
    retrieve((id) => engine.coupon(id, "id")),
  );
  app.post("/promotion_codes", async (c) => {
    const r = await reader(c);
    const input = promotionCodeInput(r);
    r.strings("expand");
    r.done();
    return reply(
      c,
      r,
      engine.mutate(() => createPromotionCode(engine, input)),
    );
  });
  app.get("/promotion_codes", async (c) => {
    const r = await reader(c);
    const filters = {
      code: r.string("code"),
      active: r.bool("active"),
      coupon: r.string("coupon"),
    };
    const codes = Object.values(engine.state.promotionCodes)
      .reverse()
      .filter(
        (p) =>
          (filters.code === undefined || p.code.toUpperCase() === filters.code.toUpperCase()) &&
          (filters.active === undefined || p.active === filters.active) &&
          (filters.coupon === undefined || p.promotion.coupon === filters.coupon),
      );
    return reply(c, r, page(codes, { ...pagination(r), url: "/v1/promotion_codes" }));
  });
  app.get(
    "/promotion_codes/:id",
    retrieve((id) => engine.promotionCode(id, "id")),
  );

  app.get(
    "/payment_intents/:id",
    retrieve((id) => engine.paymentIntent(id, "intent")),
  );
  app.get(
    "/charges/:id",
    retrieve((id) => engine.charge(id, "id")),
  );
  app.get(
    "/customers/:id",
    retrieve((id) => engine.customer(id, "id")),
  );
  app.get(
    "/invoices/:id",
    retrieve((id) => engine.invoice(id, "invoice")),
  );
  app.get(
    "/disputes/:id",
    retrieve((id) => engine.dispute(id, "dispute")),
  );
  app.get(
    "/refunds/:id",
    retrieve((id) => engine.state.refunds[id] ?? missingObject("refund", id)),
  );

  app.get(
    "/subscriptions/:id",
    retrieve((id) => engine.subscription(id, "subscription_exposed_id")),
  );
  app.post("/subscriptions/:id", async (c) => {
    const r = await reader(c);
    const change = {
      cancelAtPeriodEnd: r.bool("cancel_at_period_end"),
      metadata: r.metadata(),
    };
    r.strings("expand");
    r.done();
    const subscription = engine.mutate(() =>
      updateSubscription(
        engine,
        c.req.param("id"),
        {
          ...(change.cancelAtPeriodEnd !== undefined
            ? { cancelAtPeriodEnd: change.cancelAtPeriodEnd }
            : {}),
          ...(change.metadata ? { metadata: change.metadata } : {}),
        },
        c.get("request"),
      ),
    );
    return reply(c, r, subscription);
  });
  app.delete("/subscriptions/:id", async (c) => {
    const r = await reader(c);
    // Accepted for compatibility; there is nothing to prorate or invoice in the local Stripe.
    r.bool("invoice_now");
    r.bool("prorate");
    r.strings("expand");
    r.done();
    const subscription = engine.mutate(() =>
      cancelSubscription(engine, c.req.param("id"), c.get("request")),
    );
    return reply(c, r, subscription);
  });

  app.post("/refunds", async (c) => {
    const r = await reader(c);
    const input = refundInput(r);
    r.strings("expand");
    r.done();
    const refund = engine.mutate(() =>
      createRefund(
        engine,
        Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
        c.get("request"),
      ),
    );
    return reply(c, r, refund);
  });

  // How Stripe links a payment intent to the invoice it paid, since invoices and payment
  // intents no longer point at each other in this API version.
  app.get("/invoice_payments", async (c) => {
    const r = await reader(c);
    const invoiceId = r.string("invoice");
    const payment = r.object("payment");
    const paymentType = payment?.string("type");
    if (paymentType && paymentType !== "payment_intent")
      throw badRequest("Only payment[type]=payment_intent is supported here.", "payment[type]");
    const paymentIntentId = payment?.string("payment_intent");
    const payments = Object.entries(engine.state.invoicePayments)
      .filter(
        ([invoice, intent]) =>
          (!invoiceId || invoice === invoiceId) && (!paymentIntentId || intent === paymentIntentId),
      )
      .map(([invoice, intent]) => invoicePayment(engine.invoice(invoice, "invoice"), intent))
      .reverse();
    return reply(c, r, page(payments, { ...pagination(r), url: "/v1/invoice_payments" }));
  });

  app.get("/events", async (c) => {
    const r = await reader(c);
    const inRange = createdRange(r);
    const type = r.string("type");
    const types = r.strings("types");
    if (type && types)
      throw badRequest("You may only specify one of these parameters: type, types.", "types");
    if (types && types.length > 20) throw badRequest("You may pass at most 20 types.", "types");
    const wanted = types ?? (type ? [type] : null);
    const delivered = r.bool("delivery_success");
    const events = engine.state.events
      .filter(
        (e) =>
          inRange(e.created) &&
          (!wanted || wanted.some((t) => typeMatches(t, e.type))) &&
          (delivered === undefined || (e.pending_webhooks === 0) === delivered),
      )
      .reverse();
    return reply(c, r, page(events, { ...pagination(r), url: "/v1/events" }));
  });
  app.get("/events/:id", async (c) => {
    const r = await reader(c);
    const id = c.req.param("id");
    const event = engine.state.events.find((e) => e.id === id) ?? missingObject("event", id);
    return reply(c, r, event);
  });

  app.all("*", (c) => {
    throw new StripeApiError(
      404,
      `Unrecognized request URL (${c.req.method}: /v1${c.req.path}). The local Stripe serves only the endpoints Tollgate uses.`,
    );
  });

  return app;
}

function missingObject(objectType: string, id: string): never {
  throw new StripeApiError(404, `No such ${objectType}: '${id}'`, {
    code: "resource_missing",
    param: "id",
  });
}

/** `charge.*` matches every charge event, as in Stripe's `type` filter. */
function typeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith(".*") ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/** Any test-mode key is accepted; a missing or live key is refused as Stripe refuses it. */
function checkKey(header: string | undefined): void {
  let key = "";
  if (header?.startsWith("Bearer ")) key = header.slice("Bearer ".length).trim();
  else if (header?.startsWith("Basic ")) {
    try {
      key = atob(header.slice("Basic ".length).trim()).split(":")[0] ?? "";
    } catch {}
  }
  if (!key)
    throw new StripeApiError(
      401,
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key))
    throw new StripeApiError(
      401,
      `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}. The local Stripe accepts test keys only (sk_test_...).`,
    );
}

function invoicePayment(invoice: Stripe.Invoice, paymentIntentId: string): Stripe.InvoicePayment {
  return {
    ...fixture("invoice_payment"),
    id: `inpay_${paymentIntentId.slice(3)}`,
    amount_paid: invoice.amount_paid,
    amount_requested: invoice.amount_due,
    created: invoice.created,
    currency: invoice.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { type: "payment_intent", payment_intent: paymentIntentId },
    status: "paid",
    status_transitions: {
      canceled_at: null,
      paid_at: invoice.status_transitions?.paid_at ?? invoice.created,
    },
  };
}
