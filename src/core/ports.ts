/**
 * The narrow interfaces the core depends on. Adapters implement them per runtime; nothing here
 * imports a driver, an SDK or a Node module.
 */
import type { Insertable } from "kysely";
import type { Db, DownloadsTable, Trx } from "../db/schema.ts";

export type { Db, Trx };

/** Hashing and HMAC: node:crypto on Node (synchronous, fast), crypto.subtle on Workers. */
export interface Crypto {
  randomBytes(length: number): Uint8Array;
  sha256(data: string | Uint8Array): Promise<Uint8Array>;
  hmacSha256(key: string | Uint8Array, data: string | Uint8Array): Promise<Uint8Array>;
  /** Incremental SHA-256, for hashing an upload while it streams to storage. */
  createSha256(): IncrementalHash;
}

export interface IncrementalHash {
  update(chunk: Uint8Array): void;
  digestHex(): Promise<string>;
}

export interface Clock {
  /** UTC epoch milliseconds. */
  now(): number;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface ObjectInfo {
  size: number;
  contentType: string;
  etag?: string;
}

export interface ObjectBody extends ObjectInfo {
  body: ReadableStream<Uint8Array>;
  /** Present when a range was requested: the bytes the body holds. */
  range?: ByteRange;
}

export interface PutOptions {
  contentType: string;
  /** Stored with the object so the browser saves the product's file name. */
  contentDisposition: string;
  /** Rejects the upload with too_large once more bytes than this arrive. */
  maxBytes?: number;
}

export interface SignedUrlOptions {
  expiresInSeconds: number;
  filename: string;
  contentType: string;
}

/**
 * Uploads that go from the client straight to storage through presigned URLs (S3/R2 only): one
 * PUT for a file that fits in one part, otherwise a multipart upload of equal parts.
 */
export interface DirectUploads {
  /** Where the presigned URLs point: pages that upload must be allowed to connect there. */
  readonly origin: string;
  /** Bytes per part for a file of `size` bytes: equal parts (R2), at most 10,000 of them. */
  partSizeFor(size: number): number;
  /** A URL to PUT the whole object to; `headers` are signed in and must be sent as they are. */
  presignPut(
    key: string,
    opts: {
      expiresInSeconds: number;
      contentType: string;
      contentDisposition: string;
      contentLength: number;
    },
  ): Promise<{ url: string; headers: Record<string, string> }>;
  /** Starts a multipart upload; the object will carry this type and disposition. */
  createMultipartUpload(
    key: string,
    opts: { contentType: string; contentDisposition: string },
  ): Promise<string>;
  /** A URL to PUT part `partNumber` (from 1) of exactly `contentLength` bytes to. */
  presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    opts: { expiresInSeconds: number; contentLength: number },
  ): Promise<string>;
  /** Joins the parts; throws invalid_input when the store refuses them (wrong ETag, unknown upload). */
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /** The parts that have arrived so far (S3 ListParts), in part-number order; null: no such upload. */
  listParts(key: string, uploadId: string): Promise<StoredPart[] | null>;
}

/** One part of an unfinished upload, as the store holds it. */
export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
}

/**
 * Resumable uploads through the app (local folder, R2 binding): each part is stored under the
 * upload's key as it arrives, listed to resume, and joined into the object (by the app in one
 * streaming pass, or by the store itself).
 */
export interface ChunkedUploads {
  /** Prepares the store for the parts of `key` (R2: its multipart upload); once, at the start. */
  begin(key: string, opts: { contentType: string; contentDisposition: string }): Promise<void>;
  /** Writes one part; a part written again replaces the earlier one. Exactly `size` bytes. */
  putPart(
    key: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    size: number,
  ): Promise<StoredPart>;
  /** The parts written so far, in part-number order (an empty list when none). */
  listParts(key: string): Promise<StoredPart[]>;
  /** Joins parts 1..count into the object under `key` (constant memory) and drops the parts. */
  completeParts(
    key: string,
    count: number,
    opts: { contentType: string; contentDisposition: string },
  ): Promise<{ size: number }>;
  /** Drops the parts written so far. */
  abortParts(key: string): Promise<void>;
}

export interface ObjectStore {
  readonly kind: "local" | "s3" | "r2-binding";
  /** Present when clients can upload straight to the store (presigned URLs). */
  readonly directUploads?: DirectUploads;
  /** Present when the app itself takes uploads in resumable parts (local folder, R2 binding). */
  readonly chunkedUploads?: ChunkedUploads;
  put(key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<{ size: number }>;
  head(key: string): Promise<ObjectInfo | null>;
  /** The object's bytes, or a range of them; null when the object is missing. */
  get(key: string, range?: ByteRange): Promise<ObjectBody | null>;
  delete(key: string): Promise<void>;
  /** A URL for one object that stops working after `expiresInSeconds`. */
  signedUrl(key: string, opts: SignedUrlOptions): Promise<string>;
  /** Throws when the store is not reachable or not writable. */
  check(): Promise<void>;
}

/**
 * Stamps PDFs (decision 0026): a visible line on every page and an invisible trace id, written
 * as an incremental update, so the stamped copy is the original's bytes followed by what this
 * returns. Loads its PDF library on first use (a lazy chunk of the Worker).
 */
export interface PdfStamper {
  /** The bytes to append to `pdf`; throws when the file cannot be read as a PDF. */
  stamp(pdf: Uint8Array, stamp: { text: string; traceId: string }): Promise<Uint8Array>;
  /** The trace id a stamped copy carries, or null when it carries none. */
  readTrace(pdf: Uint8Array): Promise<string | null>;
}

/** A download link as a mail tells it: a delivery-token URL, never a storage URL. */
export interface MailLink {
  url: string;
  expiresAt: number;
  /** Null: as many downloads as the link's time allows. */
  maxUses: number | null;
}

/**
 * A mail the rules send: its kind, its recipient and the facts it tells, never its wording or
 * layout (src/mail writes those, one layout for all). A new mail is a new kind here and its
 * rendering there.
 */
export type Mail =
  | {
      kind: "sign-in";
      to: string;
      /** Signs in when opened. */
      url: string;
      /** The same sign-in, typed on the sign-in page. */
      code: string;
      /** How long the link and the code work. */
      minutes: number;
    }
  | {
      /** Sent once per paid order. */
      kind: "receipt";
      to: string;
      productName: string;
      orderRef: string;
      /** Minor units, as the order recorded it. */
      amount: number;
      currency: string;
      /**
       * The product's files, by name; none yet when the seller is still preparing them. With
       * their SHA-256 (hex), so the buyer can check what they saved.
       */
      files: { filename: string; size: number; sha256?: string }[];
      link: MailLink;
      /** The licence key the purchase came with, when its product has licences on. */
      licenseKey?: string | null;
      /**
       * What was charged when a promotion code or tax made the total differ from `amount`
       * (decision 0029): the receipt itemises it. Absent or null: `amount` was paid.
       */
      charges?: { subtotal: number; discount: number; tax: number; total: number } | null;
      /** The country tax was computed for, which names the tax (VAT, GST). */
      country?: string | null;
      /** The business buyer's tax IDs, as typed at checkout. */
      taxIds?: { type: string; value: string }[];
    }
  | {
      /** A new link asked for from an expired or spent one. */
      kind: "fresh-link";
      to: string;
      productName: string;
      link: MailLink;
      /** Set when the seller re-opened the buyer's ended access until then (decision 0022). */
      reopenedUntil?: number;
    }
  | {
      /**
       * Nothing of a paid order was downloaded DOWNLOAD_REMINDER_AFTER after payment: one
       * reminder with a fresh link (decision 0023).
       */
      kind: "download-reminder";
      to: string;
      productName: string;
      orderRef: string;
      /** When the order was paid (epoch ms). */
      paidAt: number;
      link: MailLink;
    }
  | {
      /** The seller refunded the order (Stripe confirmed it). */
      kind: "refund";
      to: string;
      productName: string;
      orderRef: string;
      /** Minor units, as the order recorded it. */
      amount: number;
      currency: string;
      /** Whether the buyer keeps the files (the product's grace policy, decision 0020). */
      accessKept: boolean;
    }
  | {
      /**
       * A subscription payment failed and the product keeps access a while (its grace policy):
       * once per failed invoice, asking the buyer to fix their card.
       */
      kind: "payment-failed";
      to: string;
      productName: string;
      orderRef: string;
      /** Access lasts at least until then (epoch ms) while the invoice stays unpaid. */
      accessUntil: number;
      /** Where the buyer pays: the invoice's page at the provider, else the shop's library. */
      payUrl: string | null;
    }
  | {
      /** A webhook endpoint failed for three days and was disabled: to the shop's admins. */
      kind: "webhook-disabled";
      to: string;
      url: string;
      /** When its deliveries started failing (epoch ms). */
      failingSince: number;
      lastError: string | null;
      /** The endpoint's page in /admin. */
      pageUrl: string;
    }
  | {
      /**
       * Something the seller should look at (a receipt not sent, a bounce): to each of the
       * shop's admins (core/alerts.ts).
       */
      kind: "seller-alert";
      to: string;
      /** What happened, in a few words: the subject and the heading. */
      title: string;
      /** One or two sentences: what happened and what to do. */
      lead: string;
      /** The facts, as label and value (order, buyer, error). */
      rows: [string, string][];
      /** Where in /admin to look. */
      pageUrl: string;
    }
  | {
      /**
       * Sharing detection (decision 0028): a flagged buyer asked to confirm it is them; opening
       * the one-time link clears the flag and lets the download go on. Only to the buyer's own
       * address.
       */
      kind: "sharing-confirm";
      to: string;
      productName: string;
      url: string;
      /** How long the link works. */
      hours: number;
    }
  | {
      /** Proves the address that asked for a free product; opening it leads to the files. */
      kind: "free-claim";
      to: string;
      productName: string;
      url: string;
      /** How long the link works. */
      hours: number;
    }
  | {
      /** A product the buyer has access to has a new release (decision 0018). */
      kind: "release";
      to: string;
      productName: string;
      version: string;
      /** The release notes, Markdown as the seller wrote them (told as text). */
      notes: string;
      changes: { added: string[]; changed: string[]; removed: string[] };
      /** A fresh delivery-token link to the product's files. */
      link: MailLink;
      /** One-click unsubscribe from update mails (RFC 8058): a signed link for this address. */
      unsubscribeUrl: string;
    };

/** The core's side of mail: it says that a mail goes, and with what facts. */
export interface Mailer {
  /** Resolves once the transport took the mail; throws a MailFailure when it did not. */
  send(mail: Mail): Promise<void>;
}

/** A mail rendered (src/mail), as a transport sends it. */
export interface MailMessage {
  to: string;
  /** Where replies go: the shop's support address. */
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  /** Extra header fields (List-Unsubscribe, List-Unsubscribe-Post), passed as they are. */
  headers?: Record<string, string>;
}

/**
 * The transports' side of mail (outbox, SMTP, an HTTP mail API): they send finished messages.
 * The core never calls it; the composition root puts src/mail's rendering in front of it.
 */
export interface MailTransport {
  /** Resolves once the transport took the message; throws a MailFailure when it did not. */
  send(message: MailMessage): Promise<void>;
}

/**
 * Why a mailer could not send a message, in words for the seller. `permanent`: the recipient's
 * address will never take it (its mail server refused the mailbox with a 5xx, a mail API called
 * the address invalid or suppressed), so sending again cannot help; the receipt is then recorded
 * as bounced. Anything else (server down, login refused, rate limited, the shop's sender refused)
 * may pass and is tried again.
 */
export class MailFailure extends Error {
  override readonly name: string = "MailFailure";
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

export const isPermanentMailFailure = (error: unknown): error is MailFailure =>
  error instanceof MailFailure && error.permanent;

/**
 * A cookie that holds a session, as the HTTP layer sets it (HttpOnly, SameSite=Lax, Secure
 * behind https): it ends at `expiresAt` (epoch ms), or `maxAgeSeconds` after it is set.
 */
export interface SessionCookie {
  name: string;
  value: string;
  expiresAt?: number;
  maxAgeSeconds?: number;
}

/**
 * What a sign-in link or code was worth. Either the provider proved the address, and the core
 * finds or makes the user and asks it for a session; or the provider signed them in with a
 * session of its own, kept in a cookie, whose user the next request's credentials tell.
 */
export type SignInProof =
  | { email: string; next: string | null; openSession(userId: string): Promise<SessionCookie> }
  | { cookie: SessionCookie };

/** What a request carries that may say who it is. */
export interface Credentials {
  /** The `Authorization: Bearer` token, unless it is the admin token. */
  bearer: string | null;
  cookies: Record<string, string>;
}

/** Whom credentials belong to, as the identity provider says. */
export interface Holder {
  /**
   * Our user's id and email, just those (built-in sessions), or the provider's user
   * (`provider`), whose row the core finds or makes. Null: nobody, or a cookie that no longer
   * signs anyone in.
   */
  who: { id: string; email: string; provider?: boolean } | null;
  /** The session cookie's value, good or not: requests that ride on it are checked for CSRF. */
  session: string | null;
}

/**
 * Who someone is, and the half of signing in that differs by provider: the built-in sign-in
 * (our links, codes and sessions) or Supabase Auth. The rules (input, limits, return paths, user
 * rows) are the core's, in core/identity, the same whichever runs.
 */
export interface Identity {
  /**
   * Sends the sign-in email (a link and a code) to an address the rules have checked and
   * counted; `next` is a safe path on this site. Answers how many minutes they work, null when
   * the provider decides.
   */
  sendSignIn(input: { email: string; next: string | null }): Promise<{ minutes: number | null }>;
  /**
   * Trades the sign-in link's callback query for a proof. `fragment`: the proof is in the URL
   * fragment, which only the browser reads; the page served moves it into the cookie named.
   */
  redeemLink(
    query: Record<string, string | undefined>,
  ): Promise<SignInProof | { fragment: string }>;
  /** Trades an address's emailed code for a proof; throws invalid_input or gone when it is not. */
  redeemCode(input: { email: string; code: string }): Promise<SignInProof>;
  /** Throws unauthenticated for a bad bearer token, unavailable when it cannot check now. */
  whoIs(credentials: Credentials): Promise<Holder>;
  /** Ends the session the cookies hold; answers the names of the cookies to clear. */
  signOut(cookies: Record<string, string>): Promise<string[]>;
}

/**
 * Group commit: small write transactions of concurrent requests share one transaction and one
 * commit (one fsync on SQLite), each caller answered once the commit holds its writes. The Node
 * runtime offers it (DESIGN section 12); without it each runs in a transaction of its own.
 */
export interface GroupCommit {
  run<T>(work: (trx: Trx) => Promise<T>): Promise<T>;
}

/**
 * Sends queued receipts after the answer, in the background (Node; decision 0011). Told when a
 * commit queued some; without one (Workers), the receipt is sent right after its commit.
 */
export interface ReceiptSender {
  wake(): void;
}

/**
 * Sends outgoing webhooks (decision 0017): told after a commit that recorded deliveries. The Node
 * runtime's sends them in the background; the Worker's after the answer (waitUntil).
 */
export interface WebhookSender {
  wake(): void;
  /**
   * False when this process knows the shop has no enabled endpoint (asked at most a second ago;
   * its own changes known at once): a change then records no event at all, not even a statement.
   */
  endpointsMayExist(): boolean;
  /** This process changed the endpoints: take them to exist until asked again. */
  endpointsChanged(): void;
  /**
   * fetch that never connects to a loopback or private address, checked on the address it
   * connects to (Node; no DNS rebinding). Without it (Workers) the URL's name is checked only:
   * Cloudflare's fetch does not reach private networks.
   */
  publicFetch?: typeof fetch;
}

/**
 * Recent reads of what decides a download, at most one second old and forgotten on every
 * committed write to the access tables (core/readCache.ts, decision 0010).
 */
export interface ReadCache {
  read<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** Forgets everything: a write to what decides access has just committed. */
  forget(): void;
}

/** A download's log row and, for a link with unlimited uses, its use, to be counted together. */
export interface LoggedDownload {
  row: Insertable<DownloadsTable>;
  /** The id of an unlimited link whose use this was (a limited link's use is counted at once). */
  useOf: string | null;
}

/**
 * Download log rows written after the answer (decision 0010): batched, at most about 100 ms
 * late; a crash loses only the rows not yet written. Counted uses of limited links, licence
 * activations and anything that grants or removes access are never written this way.
 */
export interface DownloadLog {
  add(download: LoggedDownload): void;
}

/**
 * Signs licence files (compact JWS, EdDSA over Ed25519) and publishes the keys that verify them.
 * The first key signs; every key is published, so files signed before a rotation stay valid.
 */
export interface LicenseSigner {
  /** A compact JWS of these JWT claims, its header naming the signing key (`kid`). */
  sign(claims: Record<string, unknown>): Promise<string>;
  /** The public keys, as a JWK Set (`GET /.well-known/jwks.json`). */
  publicKeys(): Promise<{ keys: Record<string, unknown>[] }>;
}

/**
 * Hits counted in fixed windows in this process's memory: the public licence API's limits, which
 * must cost no database write per request (decision 0015).
 */
export interface RateCounter {
  /** Counts one hit on `key`; the seconds to wait when more than `limit` fell in this window. */
  hit(key: string, limit: number, windowSeconds: number): number | null;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A Checkout Session as the rules need it, whatever the payment provider's object looks like. */
export interface CheckoutView {
  id: string;
  status: "open" | "complete" | "expired";
  paymentStatus: "paid" | "unpaid" | "no_payment_required";
  mode: "payment" | "subscription";
  currency: string | null;
  amountSubtotal: number | null;
  amountTotal: number | null;
  /** What the buyer typed at checkout, or what we pre-filled. */
  email: string | null;
  metadata: Record<string, string>;
  paymentIntentId: string | null;
  subscriptionId: string | null;
  customerId: string | null;
  /** End of the paid subscription period (ms), when the session started a subscription. */
  subscriptionPeriodEnd: number | null;
  /**
   * False when built from an event's copy of the session alone: no line items and no
   * subscription period yet (fulfilment asks the provider when it needs them). True when the
   * provider was asked for the whole session.
   */
  detailed: boolean;
  /** What the provider took off (promotion codes) and added or contained as tax; null: unknown. */
  amountDiscount: number | null;
  amountTax: number | null;
  /** A business buyer's tax IDs, as typed at checkout. */
  taxIds: { type: string; value: string }[];
  /** The country tax was computed for (the buyer's billing address). */
  country: string | null;
  /** The invoice the payment made (invoice creation on a one-time payment). */
  invoiceId: string | null;
  /** Null when the provider could not say (a stateless mock): the line-item check is skipped. */
  lineItems:
    | {
        priceId: string | null;
        currency: string;
        amountSubtotal: number;
        quantity: number;
      }[]
    | null;
  createdAt: number;
}

export interface CheckoutRequest {
  mode: "payment" | "subscription";
  item: {
    name: string;
    currency: string;
    unitAmount: number;
    interval: string | null;
    /** A provider price to sell instead of the amount (the seller's, or a chosen-price one). */
    priceId: string | null;
    /** The product's tax code, sent with automatic tax. */
    taxCode: string | null;
  };
  /** The shop's Checkout settings (decision 0029): each parameter is sent only when on. */
  options: {
    automaticTax: boolean;
    taxIdCollection: boolean;
    /** An invoice for a one-time payment (subscriptions always have theirs). */
    invoiceCreation: boolean;
    promotionCodes: boolean;
    taxBehavior: "exclusive" | "inclusive";
  };
  clientReferenceId: string | null;
  customerEmail: string | null;
  /** Copied onto the session and onto the payment intent or subscription. */
  metadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
}

/** The few calls the rules make to the payment provider (Stripe, or the local Stripe). */
export interface Payments {
  readonly livemode: boolean;
  createCheckout(request: CheckoutRequest): Promise<{ id: string; url: string }>;
  /** Makes a price whose amount the buyer chooses (pay what you want); answers its id. */
  createChosenPrice(price: ChosenPriceRequest): Promise<string>;
  /**
   * Whether the account can collect tax anywhere (Stripe Tax registrations), for `doctor`; null
   * when the provider cannot say (the local Stripe, a mock).
   */
  taxRegistrations(): Promise<number | null>;
  /** Null when the provider does not know the session. */
  retrieveCheckout(sessionId: string): Promise<CheckoutView | null>;
  refund(paymentIntentId: string): Promise<void>;
  /**
   * Where the buyer reads what they paid at the provider: the invoice's hosted page when the
   * payment has an invoice (a subscription's latest, or one made at checkout), else the charge's
   * receipt. Null when the provider has neither (or does not know the payment); an outage throws.
   */
  receiptLink(payment: PaymentReceiptRef): Promise<ReceiptLink | null>;
  readonly events: PaymentEvents;
}

/** A price the buyer chooses: at least `minimum`, `suggested` offered first (minor units). */
export interface ChosenPriceRequest {
  name: string;
  currency: string;
  minimum: number;
  suggested: number;
  taxCode: string | null;
  /** Set only when automatic tax is on (a price's tax behaviour cannot change once set). */
  taxBehavior: "exclusive" | "inclusive" | null;
}

/** The provider's ids of one order's payment, as far as they are known. */
export interface PaymentReceiptRef {
  checkoutSessionId: string | null;
  paymentIntentId: string | null;
}

export interface ReceiptLink {
  url: string;
  kind: "invoice" | "receipt";
}

/**
 * What a payment provider's event means for Tollgate, already verified and translated by the
 * provider's adapter. `orderId` is ours, read from the metadata we put on the session, payment
 * intent or subscription; never inferred from amounts or names.
 */
export type PaymentEvent =
  | {
      kind: "checkout_completed" | "checkout_async_succeeded" | "checkout_async_failed";
      checkout: CheckoutView;
    }
  | { kind: "checkout_expired"; sessionId: string; orderId: string | null }
  | { kind: "payment_succeeded"; paymentIntentId: string; orderId: string | null }
  | {
      kind: "invoice_paid";
      subscriptionId: string;
      orderId: string | null;
      periodEnd: number;
      currency: string;
      /** The invoice: a grace its failed payment started ends with it (decision 0020). */
      invoiceId?: string | null;
    }
  | {
      /** A subscription's invoice could not be paid (Stripe retries it, then ends or marks it). */
      kind: "invoice_payment_failed";
      subscriptionId: string;
      orderId: string | null;
      invoiceId: string;
      /** When the payment failed (the event's time, epoch ms). */
      failedAt: number;
      /** The invoice's page at the provider, where the buyer pays it with another card. */
      invoiceUrl: string | null;
    }
  | {
      kind: "subscription_changed";
      subscriptionId: string;
      orderId: string | null;
      status: string;
      cancelAtPeriodEnd: boolean;
      periodEnd: number | null;
      endedAt: number | null;
    }
  | {
      kind: "subscription_deleted";
      subscriptionId: string;
      orderId: string | null;
      endedAt: number;
    }
  | ({ kind: "refunded"; full: boolean } & PaymentRef)
  | ({ kind: "dispute_opened" } & PaymentRef)
  | ({ kind: "dispute_closed"; won: boolean } & PaymentRef);

/** A payment (charge) and what it paid for: a one-time order, or a subscription's invoice. */
export interface PaymentRef {
  paymentIntentId: string;
  orderId: string | null;
  subscriptionId: string | null;
}

/** An event from the payment provider, verified (signature, or fetched with our key). */
export interface ProviderEvent {
  id: string;
  type: string;
  livemode: boolean;
  /** The raw JSON, kept for the seller and for replay. */
  payload: string;
  /** What it means for Tollgate; may ask the provider for details. Null: nothing to do. */
  translate(): Promise<PaymentEvent | null>;
  /**
   * True when translate() asks the provider nothing: a redelivery of such an event is found
   * handled inside its transaction, with no look-up first.
   */
  translatesOffline?: boolean;
}

/** The provider's side of webhooks, replay and reconcile. */
export interface PaymentEvents {
  /** Verifies the signature on the raw body; throws invalid_input for anything not genuine. */
  verify(rawBody: string, signatureHeader: string | null, nowMs: number): Promise<ProviderEvent>;
  /** An event we stored earlier (it was verified when it arrived). */
  fromStored(payload: string): ProviderEvent;
  /** Every event since a time, oldest first, fetched from the provider with our key. */
  listSince(sinceMs: number): AsyncIterable<ProviderEvent>;
}

/** What a malware scanner said of a file (decision 0027). */
export type ScanVerdict =
  | { status: "clean" }
  /** `signature`: the name clamd gives what it found, e.g. `Win.Test.EICAR_HDB-1`. */
  | { status: "infected"; signature: string }
  /** The scanner could not tell (too large for it, unreachable, an error): never taken as clean. */
  | { status: "failed"; reason: string };

/** A malware scanner the files are streamed to before they are delivered (clamd: CLAMD_URL). */
export interface MalwareScanner {
  /** Where it is, for messages (`clamd at 127.0.0.1:3310`). */
  readonly name: string;
  /** Streams the bytes to the scanner in constant memory; never throws, a failure is a verdict. */
  scan(body: ReadableStream<Uint8Array>): Promise<ScanVerdict>;
  /** Throws unless the scanner answers its health check (clamd: PING -> PONG). */
  ping(): Promise<void>;
  /** The scanner's version and signature database, as it tells them. */
  version(): Promise<string>;
}
