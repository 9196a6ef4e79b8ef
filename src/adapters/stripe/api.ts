import type Stripe from "stripe";

/**
 * The part of Stripe's API the adapter calls, in the official SDK's own types and shapes: the
 * SDK (client.ts, Node) and the small fetch client (fetchClient.ts, the Worker build) both give
 * it. A call the adapter starts making must be added here, and so to both; tsc says so.
 */
export interface StripeApi {
  charges: { retrieve(id: string): Promise<Stripe.Charge> };
  paymentIntents: { retrieve(id: string): Promise<Stripe.PaymentIntent> };
  invoices: { retrieve(id: string): Promise<Stripe.Invoice> };
  invoicePayments: {
    list(params: Stripe.InvoicePaymentListParams): Promise<Stripe.ApiList<Stripe.InvoicePayment>>;
  };
  checkout: {
    sessions: {
      retrieve(
        id: string,
        params: Stripe.Checkout.SessionRetrieveParams,
      ): Promise<Stripe.Checkout.Session>;
      create(params: Stripe.Checkout.SessionCreateParams): Promise<Stripe.Checkout.Session>;
    };
  };
  refunds: { create(params: Stripe.RefundCreateParams): Promise<Stripe.Refund> };
  prices: { create(params: Stripe.PriceCreateParams): Promise<Stripe.Price> };
  tax: {
    registrations: {
      list(
        params: Stripe.Tax.RegistrationListParams,
      ): Promise<Stripe.ApiList<Stripe.Tax.Registration>>;
    };
  };
  events: {
    list(
      params: Stripe.EventListParams,
    ): Promise<Stripe.ApiList<Stripe.Event>> &
      Pick<Stripe.ApiListPromise<Stripe.Event>, "autoPagingToArray">;
  };
  /** The SDK's webhook signature helper, as the adapter calls it. */
  webhooks: { signature: Stripe["webhooks"]["signature"] };
}
