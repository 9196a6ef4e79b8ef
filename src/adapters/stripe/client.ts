import Stripe from "stripe";
import type { StripeApi } from "./api.ts";

export interface StripeClientOptions {
  secretKey: string;
  /** Another Stripe-compatible API server (stripe-mock, the local Stripe). */
  apiUrl?: string;
  /** Workers have no Node http: use fetch. */
  useFetch?: boolean;
}

/**
 * The official SDK, pointed at Stripe or at a compatible server. The Worker build puts
 * fetchClient.ts in this module's place (same exports, a fraction of the size): see
 * scripts/build-worker.ts.
 */
export function createStripeClient(opts: StripeClientOptions): StripeApi {
  const config: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 20_000 };
  if (opts.apiUrl) {
    const url = new URL(opts.apiUrl);
    config.host = url.hostname;
    config.port = url.port || (url.protocol === "https:" ? "443" : "80");
    config.protocol = url.protocol === "https:" ? "https" : "http";
  }
  if (opts.useFetch) config.httpClient = Stripe.createFetchHttpClient();
  return new Stripe(opts.secretKey, config);
}

/** Webhook HMAC through crypto.subtle, for the async check on Workers (no node:crypto there). */
export function subtleCryptoProvider(): Stripe.CryptoProvider | undefined {
  return Stripe.createSubtleCryptoProvider();
}
