/**
 * The Worker build's Stripe client: the few calls the adapter makes (api.ts), over fetch, with
 * the official SDK's wire format and behaviour, in a few hundred bytes instead of the SDK's
 * ~20 KB gzip. scripts/build-worker.ts puts this module where client.ts is imported; Node keeps
 * the SDK. Objects come back as Stripe sends them, typed by the `stripe` package (type imports
 * only). test/stripe-local/fetch-client.test.ts holds it to the SDK, call by call.
 */
import type Stripe from "stripe";
import type { StripeApi } from "./api.ts";
import type { StripeClientOptions } from "./client.ts";

/** The API version the installed SDK pins (`Stripe.API_VERSION`; a test keeps them equal). */
export const STRIPE_API_VERSION = "2026-10-28.endive";

/** As client.ts gives the SDK: two retries, 20 s per attempt. */
const MAX_RETRIES = 2;
const TIMEOUT_MS = 20_000;
/** The SDK's back-off: 0.5 s doubling up to 5 s, with jitter, never under 0.5 s. */
const retryDelayMs = (retry: number) =>
  Math.max(500, Math.min(500 * 2 ** (retry - 1), 5000) * 0.5 * (1 + Math.random()));

/** What the SDK throws for an API error, with the fields callers read (statusCode, code, ...). */
export class StripeApiError extends Error {
  readonly statusCode: number;
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly requestId: string | undefined;
  readonly raw: unknown;
  constructor(statusCode: number, body: Partial<Stripe.StripeRawError>, requestId?: string) {
    super(body.message ?? `Stripe answered ${statusCode}`);
    this.name = "StripeApiError";
    this.statusCode = statusCode;
    this.type = body.type;
    this.code = body.code;
    this.param = body.param;
    this.requestId = requestId;
    this.raw = body;
  }
}

/** Form encoding as the SDK writes it: `a[b][0][c]=v`, brackets left readable. */
export function formEncode(data: object): string {
  const pairs: string[] = [];
  const enc = (s: string) =>
    encodeURIComponent(s)
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%5B/g, "[")
      .replace(/%5D/g, "]");
  const add = (key: string, value: unknown): void => {
    if (value === undefined) return;
    if (value === null || typeof value !== "object" || value instanceof Date) {
      const text =
        value instanceof Date ? String(Math.floor(value.getTime() / 1000)) : String(value ?? "");
      pairs.push(`${enc(key)}=${enc(text)}`);
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) add(`${key}[${i}]`, item);
    } else for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
  };
  for (const [key, value] of Object.entries(data)) add(key, value);
  return pairs.join("&");
}

export function createStripeClient(opts: StripeClientOptions): StripeApi {
  const base = opts.apiUrl ? new URL(opts.apiUrl).origin : "https://api.stripe.com";

  async function request<T>(method: "GET" | "POST", path: string, params: object = {}) {
    const form = formEncode(params);
    const url = `${base}/v1/${path}${method === "GET" && form ? `?${form}` : ""}`;
    const headers: Record<string, string> = {
      Accept: "application/json",
      Authorization: `Bearer ${opts.secretKey}`,
      "Content-Type": "application/x-www-form-urlencoded",
      "Stripe-Version": STRIPE_API_VERSION,
      "User-Agent": "Stripe/v1 Tollgate-fetch",
    };
    // POSTs carry an idempotency key, so a retry never does the same thing twice.
    if (method === "POST") headers["Idempotency-Key"] = `tollgate-retry-${crypto.randomUUID()}`;
    for (let retry = 0; ; retry++) {
      if (retry > 0) await new Promise((done) => setTimeout(done, retryDelayMs(retry)));
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, {
          method,
          headers,
          ...(method === "POST" ? { body: form } : {}),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        text = await res.text();
      } catch (error) {
        if (retry < MAX_RETRIES) continue;
        const timedOut = (error as Error).name === "TimeoutError";
        throw new Error(
          timedOut
            ? `Request aborted due to timeout being reached (${TIMEOUT_MS}ms)`
            : `An error occurred with our connection to Stripe. Request was retried ${retry} times.`,
          { cause: error },
        );
      }
      const should = res.headers.get("stripe-should-retry");
      const again =
        should === "true" || (should !== "false" && (res.status === 409 || res.status >= 500));
      if (again && retry < MAX_RETRIES) continue;
      const requestId = res.headers.get("request-id") ?? undefined;
      let body: { error?: Partial<Stripe.StripeRawError> } & Record<string, unknown>;
      try {
        body = JSON.parse(text);
      } catch {
        throw new StripeApiError(res.status, {
          message: "Invalid JSON received from the Stripe API",
        });
      }
      if (body.error || !res.ok) throw new StripeApiError(res.status, body.error ?? {}, requestId);
      return body as T;
    }
  }

  const get = <T>(path: string, params?: object) => request<T>("GET", path, params);
  const post = <T>(path: string, params: object) => request<T>("POST", path, params);
  const id = encodeURIComponent;

  return {
    charges: { retrieve: (charge) => get(`charges/${id(charge)}`) },
    paymentIntents: { retrieve: (intent) => get(`payment_intents/${id(intent)}`) },
    invoices: { retrieve: (invoice) => get(`invoices/${id(invoice)}`) },
    invoicePayments: { list: (params) => get("invoice_payments", params) },
    checkout: {
      sessions: {
        retrieve: (session, params) => get(`checkout/sessions/${id(session)}`, params),
        create: (params) => post("checkout/sessions", params),
      },
    },
    refunds: { create: (params) => post("refunds", params) },
    prices: { create: (params) => post("prices", params) },
    tax: { registrations: { list: (params) => get("tax/registrations", params) } },
    events: {
      list(params) {
        const first = get<Stripe.ApiList<Stripe.Event>>("events", params);
        // Page after page, newest first as Stripe lists them, up to `limit` events.
        const autoPagingToArray = async ({ limit }: { limit: number }) => {
          const all: Stripe.Event[] = [];
          let page = await first;
          for (;;) {
            for (const event of page.data) if (all.length < limit) all.push(event);
            const last = page.data.at(-1);
            if (!page.has_more || !last || all.length >= limit) return all;
            page = await get("events", { ...params, starting_after: last.id });
          }
        };
        return Object.assign(first, { autoPagingToArray }) as ReturnType<
          StripeApi["events"]["list"]
        >;
      },
    },
    webhooks: { signature: webhookSignature },
  };
}

/** The Worker verifies signatures with crypto.subtle itself; no SDK provider is needed. */
export function subtleCryptoProvider(): Stripe.CryptoProvider | undefined {
  return undefined;
}

/**
 * Stripe's v1 webhook check as the SDK does it: `t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
 * any v1 signature may match (compared in constant time), and a timestamp older than the
 * tolerance is refused. Messages are the SDK's, so the log reads the same on both runtimes.
 */
const webhookSignature: NonNullable<StripeApi["webhooks"]["signature"]> = {
  verifyHeader() {
    throw new Error("The Worker build checks webhook signatures with verifyHeaderAsync");
  },
  async verifyHeaderAsync(payload, header, secret, tolerance = 300, _crypto, receivedAt) {
    const body = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
    const text =
      header instanceof Uint8Array ? new TextDecoder().decode(header) : (header as unknown);
    if (!body) throw new Error("No webhook payload was provided.");
    if (text == null || text === "")
      throw new Error("No stripe-signature header value was provided.");
    if (typeof text !== "string")
      throw new Error("Unable to extract timestamp and signatures from header");
    let timestamp = -1;
    const signatures: string[] = [];
    for (const item of text.split(",")) {
      const [key, value] = item.split("=");
      if (key === "t") timestamp = Number.parseInt(value as string, 10);
      if (key === "v1") signatures.push(value as string);
    }
    if (timestamp === -1) throw new Error("Unable to extract timestamp and signatures from header");
    if (!signatures.length) throw new Error("No signatures found with expected scheme");
    if (!secret?.trim())
      throw new Error("No webhook secret value was provided. It should start with `whsec_`");
    const expected = await hmacHex(secret, `${timestamp}.${body}`);
    if (!signatures.some((signature) => sameText(signature, expected)))
      throw new Error(
        "No signatures found matching the expected signature for payload. Are you passing the raw request body you received from Stripe? ",
      );
    const age = Math.floor((receivedAt ?? Date.now()) / 1000) - timestamp;
    if (tolerance > 0 && age > tolerance) throw new Error("Timestamp outside the tolerance zone");
    return true;
  },
};

const keys = new Map<string, Promise<CryptoKey>>();

async function hmacHex(secret: string, content: string): Promise<string> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keys.set(secret, key);
  }
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(content)),
  );
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Constant-time for strings of equal length, as the SDK's secureCompare. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
