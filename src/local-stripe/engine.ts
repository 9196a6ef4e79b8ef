import type Stripe from "stripe";
import type { Logger } from "../core/ports.ts";
import { addBuiltInCodes } from "./builtins.ts";
import { missing } from "./errors.ts";
import { newEvent } from "./objects.ts";
import { loadState, type State, saveState } from "./state.ts";

type Collection =
  | "products"
  | "prices"
  | "sessions"
  | "paymentIntents"
  | "charges"
  | "refunds"
  | "disputes"
  | "customers"
  | "subscriptions"
  | "invoices"
  | "promotionCodes"
  | "discounts"
  | "taxRates";

/** Id prefix -> where objects with that prefix live, and their `object` name. */
const BY_PREFIX: [prefix: string, collection: Collection, object: string][] = [
  ["cs_", "sessions", "checkout.session"],
  ["pi_", "paymentIntents", "payment_intent"],
  ["ch_", "charges", "charge"],
  ["re_", "refunds", "refund"],
  ["dp_", "disputes", "dispute"],
  ["du_", "disputes", "dispute"],
  ["cus_", "customers", "customer"],
  ["sub_", "subscriptions", "subscription"],
  ["in_", "invoices", "invoice"],
  ["price_", "prices", "price"],
  ["prod_", "products", "product"],
  ["promo_", "promotionCodes", "promotion_code"],
  ["di_", "discounts", "discount"],
  ["txr_", "taxRates", "tax_rate"],
];

export interface RequestInfo {
  id: string | null;
  idempotency_key: string | null;
}

/**
 * The local Stripe's state and the two things every change does: record events (each queued for
 * webhook delivery) and persist. Changes are synchronous, so each request or timer applies its
 * whole change before anything else runs, then `commit` writes the state file once.
 */
export class Engine {
  readonly state: State;
  /** Called after each commit that recorded events or scheduled work. */
  onChange: () => void = () => {};
  /**
   * Where browsers reach this server: the origin of the latest request (as a session's checkout
   * `url` uses its creating request's). Receipt and invoice pages' URLs start with it.
   */
  origin = "http://127.0.0.1";

  /** A page this server serves, as an absolute URL (a charge's `receipt_url`, ...). */
  pageUrl(path: string): string {
    return `${this.origin}${path}`;
  }

  constructor(
    private readonly stateFile: string | null,
    readonly log: Logger,
    readonly asyncDelayMs: number,
  ) {
    this.state = loadState(stateFile);
    addBuiltInCodes(this.state);
  }

  /** Runs one change and persists it. */
  mutate<T>(change: () => T): T {
    const result = change();
    this.commit();
    return result;
  }

  commit(): void {
    if (this.stateFile) saveState(this.stateFile, this.state);
    this.onChange();
  }

  /** Records an event with a snapshot of `object` as it is now, and queues its delivery. */
  emit(
    type: Stripe.Event.Type,
    object: object,
    opts: { previous?: Record<string, unknown>; request?: RequestInfo } = {},
  ): Stripe.EventBase {
    const event = newEvent(type, object, opts);
    this.state.events.push(event);
    this.state.deliveries.push({ eventId: event.id, attempts: 0, nextAttemptAt: Date.now() });
    return event;
  }

  /** Any stored object by id, or null. */
  find(id: string): { object: string; value: { id: string } } | null {
    if (id.startsWith("evt_")) {
      const event = this.state.events.find((e) => e.id === id);
      return event ? { object: "event", value: event } : null;
    }
    const entry = BY_PREFIX.find(([prefix]) => id.startsWith(prefix));
    if (!entry) return null;
    const value = this.state[entry[1]][id];
    return value ? { object: entry[2], value } : null;
  }

  session(id: string, param = "session"): Stripe.Checkout.Session {
    return this.state.sessions[id] ?? fail("checkout.session", id, param);
  }
  paymentIntent(id: string, param = "payment_intent"): Stripe.PaymentIntent {
    return this.state.paymentIntents[id] ?? fail("payment_intent", id, param);
  }
  charge(id: string, param = "charge"): Stripe.Charge {
    return this.state.charges[id] ?? fail("charge", id, param);
  }
  subscription(id: string, param = "subscription"): Stripe.Subscription {
    return this.state.subscriptions[id] ?? fail("subscription", id, param);
  }
  customer(id: string, param = "customer"): Stripe.Customer {
    return this.state.customers[id] ?? fail("customer", id, param);
  }
  invoice(id: string, param = "invoice"): Stripe.Invoice {
    return this.state.invoices[id] ?? fail("invoice", id, param);
  }
  dispute(id: string, param = "dispute"): Stripe.Dispute {
    return this.state.disputes[id] ?? fail("dispute", id, param);
  }
  price(id: string, param = "price"): Stripe.Price {
    return this.state.prices[id] ?? fail("price", id, param);
  }
  coupon(id: string, param = "coupon"): Stripe.Coupon {
    return this.state.coupons[id] ?? fail("coupon", id, param);
  }
  promotionCode(id: string, param = "promotion_code"): Stripe.PromotionCode {
    return this.state.promotionCodes[id] ?? fail("promotion_code", id, param);
  }
}

function fail(objectType: string, id: string, param: string): never {
  throw missing(objectType, id, param);
}
