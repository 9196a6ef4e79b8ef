import type { Generated, Insertable, Kysely, Selectable, Transaction } from "kysely";

/**
 * The database as Kysely sees it, identical on SQLite and Postgres. Times are UTC epoch
 * milliseconds (bigint, read back as numbers), money is integer minor units and flags are
 * 0/1 integers, so both dialects store and return the same values.
 */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  login_tokens: LoginTokensTable;
  rate_limits: RateLimitsTable;
  products: ProductsTable;
  assets: AssetsTable;
  orders: OrdersTable;
  entitlements: EntitlementsTable;
  delivery_tokens: DeliveryTokensTable;
  downloads: DownloadsTable;
  webhook_events: WebhookEventsTable;
  outbox: OutboxTable;
  receipt_queue: ReceiptQueueTable;
  access_events: AccessEventsTable;
  job_leases: JobLeasesTable;
  licenses: LicensesTable;
  license_activations: LicenseActivationsTable;
  shop_profile: ShopProfileTable;
  provider_prices: ProviderPricesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  releases: ReleasesTable;
  release_notices: ReleaseNoticesTable;
  mail_unsubscribes: MailUnsubscribesTable;
  download_counts: DownloadCountsTable;
  payment_failures: PaymentFailuresTable;
  email_corrections: EmailCorrectionsTable;
  receipt_bounce_alerts: ReceiptBounceAlertsTable;
  pdf_stamps: PdfStampsTable;
  sharing_signals: SharingSignalsTable;
  sharing_flags: SharingFlagsTable;
}

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;

export interface UsersTable {
  id: string;
  email: string;
  created_at: number;
}

export interface SessionsTable {
  token_hash: string;
  user_id: string;
  expires_at: number;
  created_at: number;
}

export interface LoginTokensTable {
  token_hash: string;
  code_hash: string;
  email: string;
  next_path: string | null;
  attempts: Generated<number>;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}

export type ProductKind = "one_time" | "subscription" | "free";

export interface ProductsTable {
  id: string;
  slug: string;
  name: string;
  description: string;
  kind: ProductKind;
  price_amount: number;
  currency: string;
  interval: string | null;
  stripe_price_id: string | null;
  active: number;
  /** Each purchase gets a licence key (migration 0009). */
  license_enabled: Generated<number>;
  /** Activations a key allows unless its own limit says otherwise; null: no limit. */
  license_activation_limit: number | null;
  /** Keys end when access ends (subscriptions); 0: they never expire. */
  license_expires_with_access: Generated<number>;
  /** The cover's public image id (`<sha256>.<ext>`, core/images/publicImages.ts); null: none (migration 0011). */
  cover_image: string | null;
  /** Grace policy (migration 0017): days of access kept after a subscription payment failed. */
  grace_past_due_days: Generated<number>;
  /** A full refund takes access away (1) or not (0); null: REFUND_REVOKES_ACCESS decides. */
  grace_refund_revokes: number | null;
  /** An opened dispute suspends access (1) or leaves it (0); a lost one revokes it either way. */
  grace_dispute_suspends: Generated<number>;
  /** Downloads of each file each buyer (entitlement) may make (migration 0018); null: no limit. */
  download_limit: number | null;
  /** Buyers' PDFs are stamped with their email, order and a trace id (migration 0023). */
  stamp_pdfs: Generated<number>;
  /** When stamping a buyer's copy failed: serve the original, or hold the file. */
  stamp_failure: Generated<StampFailure>;
  /** The product's Stripe tax code, txcd_... (migration 0026); null: the account's default. */
  tax_code: string | null;
  /** Pay what you want: the least a buyer may choose (null: a fixed price), and the amount offered. */
  pwyw_minimum: number | null;
  pwyw_suggested: number | null;
  /** The usual price, shown crossed out while price_amount is below it (a sale). */
  list_price: number | null;
  created_at: number;
  updated_at: number;
}

export type StampFailure = "original" | "hold";

export type TaxBehavior = "exclusive" | "inclusive";

/** A price Tollgate made at the provider, by what it was made from (migration 0026). */
export interface ProviderPricesTable {
  spec: string;
  price_id: string;
  created_at: number;
}

export interface AssetsTable {
  id: string;
  product_id: string;
  filename: string;
  storage_key: string;
  size: number;
  sha256: string;
  content_type: string;
  version: number;
  active: number;
  created_at: number;
  /**
   * What clamd said (CLAMD_URL, decision 0027): null when not scanned (delivered as before);
   * "infected" and "failed" files are quarantined: inactive, never delivered.
   */
  scan_status: ScanStatus | null;
  /** The signature clamd named, or why the scan failed. */
  scan_detail: string | null;
  scanned_at: number | null;
}

export type ScanStatus = "clean" | "infected" | "failed";

export type OrderStatus = "pending" | "paid" | "failed" | "abandoned" | "refunded" | "disputed";

export interface OrdersTable {
  id: string;
  product_id: string;
  checkout_session_id: string | null;
  payment_intent_id: string | null;
  subscription_id: string | null;
  customer_id: string | null;
  email: string | null;
  user_id: string | null;
  amount: number;
  currency: string;
  status: OrderStatus;
  flag: string | null;
  /** Claimed: the receipt was queued (or is being sent again); released when a try fails. */
  receipt_sent_at: number | null;
  /** The mail left: set after the mailer accepted it. */
  receipt_delivered_at: number | null;
  /** The recipient's server refused the receipt for good (a bounce): it is not retried. */
  receipt_bounced_at: number | null;
  /** Why, in the mail server's or mail API's words. */
  receipt_bounce_reason: string | null;
  /** The payment's receipt or invoice page at the provider, once the buyer asked for it (0013). */
  receipt_url: string | null;
  /** When receipt_url was asked of the provider (epoch ms); it is asked again after a day. */
  receipt_url_at: number | null;
  /** When the order became paid (migration 0020; earlier orders: their checkout's start). */
  paid_at: number | null;
  /** The seller was told that the receipt had not gone out 10 minutes after payment (once). */
  receipt_alerted_at: number | null;
  /** The one download reminder went (or was given up on: the address refused it for good). */
  download_reminded_at: number | null;
  /** A watchdog pass holds the reminder until then while it mails it (decision 0023). */
  download_reminder_lease: number | null;
  /** A chosen-price order accepts any subtotal from this (migration 0026); null: exactly amount. */
  amount_minimum: number | null;
  /** The provider price the session was made with, when it named one. */
  price_id: string | null;
  /** What the provider charged, once paid: discount, tax and the total (null before). */
  amount_discount: number | null;
  amount_tax: number | null;
  amount_total: number | null;
  /** A business buyer's tax IDs, one per line ("eu_vat DE123456789"). */
  tax_ids: string | null;
  /** The country tax was computed for (ISO 3166-1 alpha-2). */
  buyer_country: string | null;
  /** The invoice the payment made at the provider (invoice creation, or a subscription's). */
  invoice_id: string | null;
  created_at: number;
  updated_at: number;
}

export type EntitlementSource = "purchase" | "subscription" | "grant" | "free";
export type EntitlementStatus = "active" | "revoked" | "suspended";

export interface EntitlementsTable {
  id: string;
  user_id: string | null;
  email: string | null;
  product_id: string;
  source: EntitlementSource;
  /** What this entitlement comes from (order id, subscription id, or the owner for grants and
   * free claims); unique together with product and source, which makes granting idempotent. */
  source_ref: string;
  status: EntitlementStatus;
  starts_at: number;
  ends_at: number | null;
  revoked_reason: string | null;
  created_at: number;
  updated_at: number;
  /**
   * Sharing detection (migration 0025, decision 0028): when the buyer went past the seller's
   * threshold; their next download asks them to confirm by email. Null: not flagged.
   */
  sharing_flagged_at: number | null;
}

/** What happened to an entitlement (issue 18, migration 0016). */
export type AccessChange =
  | "granted"
  | "revoked"
  | "suspended"
  | "restored"
  | "expired"
  | "limit_changed"
  | "reopened"
  | "grace_started"
  | "sharing_flagged"
  | "sharing_cleared";

export interface AccessEventsTable {
  id: string;
  entitlement_id: string;
  product_id: string;
  change: AccessChange;
  /** Who: `stripe:{event id}`, `seller`, `cli`, `system`, `buyer`. */
  by: string;
  reason: string | null;
  created_at: number;
}

export interface DeliveryTokensTable {
  id: string;
  token_hash: string;
  entitlement_id: string;
  asset_id: string | null;
  /** When the link stops working; its first use brings it forward to first use + the window. */
  expires_at: number;
  max_uses: number | null;
  uses: Generated<number>;
  revoked_at: number | null;
  created_at: number;
  /** Seconds the link works from its first use (migration 0019); null: no such window. */
  expires_after_first_use: number | null;
  /** When the link was first used to download (set once); null: not yet. */
  first_used_at: number | null;
}

export interface DownloadsTable {
  id: string;
  entitlement_id: string;
  asset_id: string;
  token_id: string | null;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
  /** The link that made it (`token:`, `user:` or `order:` and an id); later ranges must match. */
  link: string | null;
  /** The bytes later ranges of this download may still take, never more than its file's size. */
  bytes_left: number | null;
  /** Later ranges continue it only until then. */
  resumable_until: number | null;
  /** Bytes a broken-off transfer may still get back beyond what it never sent (socket buffers). */
  resume_allowance: number | null;
}

/**
 * How often one entitlement downloaded one file of a product with a download limit (migration
 * 0018, decision 0021). Written only by core/downloads/limits.ts.
 */
export interface DownloadCountsTable {
  entitlement_id: string;
  asset_id: string;
  /** Downloads counted (a reset by the seller deletes the row). */
  used: number;
  /** Until then, the file again is the last counted download again, not a new one. */
  window_until: number;
  updated_at: number;
}

export interface WebhookEventsTable {
  id: string;
  type: string;
  status: string;
  error: string | null;
  payload: string;
  received_at: number;
  processed_at: number | null;
}

export interface OutboxTable {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  created_at: number;
}

export type User = Selectable<UsersTable>;
export type Product = Selectable<ProductsTable>;
export type Asset = Selectable<AssetsTable>;
export type Order = Selectable<OrdersTable>;
export type Entitlement = Selectable<EntitlementsTable>;
export type DeliveryToken = Selectable<DeliveryTokensTable>;
export type Download = Selectable<DownloadsTable>;
export type NewEntitlement = Insertable<EntitlementsTable>;

/**
 * An order's mail still to send (migration 0007, decision 0011): written in the transaction of the
 * change it tells of (the payment, the refund), drained after the answer by a sender that holds
 * each row under a lease.
 */
/**
 * One buyer's stamped copy of one PDF (migration 0023, decision 0026): queued (pending), claimed
 * under a lease by one stamper, then ready (its own object) or failed.
 */
export interface PdfStampsTable {
  asset_id: string;
  entitlement_id: string;
  /** The order that granted the entitlement; null for grants and free claims. */
  order_id: string | null;
  status: PdfStampStatus;
  /** What the copy carries invisibly; set when it is stamped. */
  trace_id: string | null;
  storage_key: string | null;
  size: number | null;
  sha256: string | null;
  due_at: number;
  lease_until: number | null;
  attempts: Generated<number>;
  last_error: string | null;
  /** When the seller was told that it failed. */
  alerted_at: number | null;
  created_at: number;
  stamped_at: number | null;
}

export type PdfStampStatus = "pending" | "ready" | "failed";
export type PdfStamp = Selectable<PdfStampsTable>;

export interface ReceiptQueueTable {
  order_id: string;
  /** Which mail (migration 0010): the receipt, or the refund notice. */
  kind: Generated<OrderMailKind>;
  /** Not before this time. */
  due_at: number;
  /** A sender holds the row until then; null when nobody does. */
  lease_until: number | null;
  attempts: number;
  last_error: string | null;
  created_at: number;
}

export type OrderMailKind = "receipt" | "refund";

/** Who runs a periodic job's next pass (migration 0008, decision 0012). */
export interface JobLeasesTable {
  name: string;
  /** The process that claimed the latest pass. */
  holder: string;
  /** Its lease: renewed while the pass runs, set to the end time when it finishes. */
  locked_until: number;
  /** No pass starts before this time, whichever process ticks. */
  next_run_at: number;
  /** Passes run so far, all processes together. */
  runs: number;
}

/** One licence key per entitlement of a product with licences on (migration 0009). */
export interface LicensesTable {
  id: string;
  key: string;
  entitlement_id: string;
  product_id: string;
  /** This customer's own limit, set by the seller; null: the product's. */
  activation_limit: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
  created_at: number;
  updated_at: number;
}

/** One machine (fingerprint) a licence is activated on. */
export interface LicenseActivationsTable {
  id: string;
  license_id: string;
  fingerprint: string;
  label: string | null;
  ip: string | null;
  first_seen_at: number;
  last_seen_at: number;
}

export type License = Selectable<LicensesTable>;
export type LicenseActivation = Selectable<LicenseActivationsTable>;

/** The seller's settings of the shop (migration 0012): one row, id 1; null means the default. */
export interface ShopProfileTable {
  id: number;
  name: string | null;
  support_email: string | null;
  /** An IANA zone, e.g. Europe/Berlin. */
  time_zone: string | null;
  /** A public image id (core/images): the logo. */
  logo_image: string | null;
  /** Sharing detection (migration 0025): on (1) or off (0); its thresholds and window. */
  sharing_detection: number | null;
  sharing_networks: number | null;
  sharing_devices: number | null;
  sharing_window_hours: number | null;
  /** Checkout settings (migration 0026): 1 on, 0 off, null the configuration's default. */
  checkout_automatic_tax: number | null;
  checkout_tax_id_collection: number | null;
  checkout_invoice_creation: number | null;
  checkout_promotion_codes: number | null;
  /** Whether prices include tax; null: exclusive. */
  checkout_tax_behavior: TaxBehavior | null;
  updated_at: number;
}

/** A seller's endpoint for outgoing webhooks (migration 0014, decision 0017). */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  /** The event types it wants, a JSON array of strings. */
  events: string;
  /** whsec_ and the base64 of the signing key. */
  secret: string;
  enabled: number;
  disabled_reason: string | null;
  /** The first failed delivery since the last one that succeeded. */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

/**
 * One event for one endpoint (migration 0014): written in the transaction of the change it tells
 * of, sent after the commit by a sender that holds it under a lease.
 */
export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  /** The webhook-id header: one per event, shared by its endpoints, retries and replays. */
  message_id: string;
  event_type: string;
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  response_status: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  created_at: number;
}

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";
export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;

/** A product's release (migration 0015, decision 0018): never changed once published. */
export interface ReleasesTable {
  id: string;
  product_id: string;
  /** 1, 2, 3... per product: the order of its releases. */
  seq: number;
  version: string;
  /** Markdown, rendered with pages/markdown.ts. */
  notes: string;
  /** JSON: the manifest's files, `ReleaseFile[]` (core/releases/manifest.ts). */
  files: string;
  /** JSON: what changed against the previous release, `{ added, changed, removed }` (file names). */
  changes: string;
  /** Past buyers were to be mailed. */
  notify: number;
  created_at: number;
}

/** One update mail of a release to one address (migration 0015): queued under leases. */
export interface ReleaseNoticesTable {
  release_id: string;
  email: string;
  status: ReleaseNoticeStatus;
  due_at: number;
  lease_until: number | null;
  attempts: number;
  last_error: string | null;
  sent_at: number | null;
  created_at: number;
}

export type ReleaseNoticeStatus = "queued" | "sent" | "failed" | "skipped";

/** Addresses that unsubscribed from update mails (migration 0015). */
export interface MailUnsubscribesTable {
  email: string;
  created_at: number;
}

export type Release = Selectable<ReleasesTable>;

/** One failed subscription invoice and its past-due grace (migration 0017). */
export interface PaymentFailuresTable {
  invoice_id: string;
  order_id: string;
  failed_at: number;
  /** Access lasts at least until then. */
  grace_until: number;
  /** The invoice's page at the provider, where the buyer pays it. */
  invoice_url: string | null;
  /** The invoice was paid after all: its mail is not sent any more. */
  paid_at: number | null;
  /** The buyer's mail is due then; null: nothing to send. */
  mail_due_at: number | null;
  mail_lease_until: number | null;
  mail_attempts: Generated<number>;
  mail_error: string | null;
  mailed_at: number | null;
  created_at: number;
}

export type PaymentFailure = Selectable<PaymentFailuresTable>;

export type EmailCorrectionStatus = "pending" | "used" | "replaced";

/**
 * A buyer's correction of the address a receipt bounced from (migration 0021, decision 0024):
 * pending until the new address signs in, then used once; a later one for the order replaces it.
 */
export interface EmailCorrectionsTable {
  id: string;
  order_id: string;
  /** The order's address when it was asked for (the one that bounced). */
  old_email: string | null;
  new_email: string;
  status: EmailCorrectionStatus;
  /** The bounce it corrects: when, and in the mail server's words. */
  bounced_at: number | null;
  bounce_reason: string | null;
  /** Who signed in with new_email and took the purchase; null until used. */
  user_id: string | null;
  created_at: number;
  used_at: number | null;
}

export type EmailCorrection = Selectable<EmailCorrectionsTable>;

/** Each bounce the seller was alerted of (migration 0021): one alert per bounce. */
export interface ReceiptBounceAlertsTable {
  order_id: string;
  bounced_at: number;
  alerted_at: number;
}

/**
 * Sharing detection's evidence (migration 0025, decision 0028): one row per entitlement, link,
 * network and device, written only by core/downloads/sharing.ts.
 */
export interface SharingSignalsTable {
  entitlement_id: string;
  /** The link the downloads came through (`token:`, `user:` or `order:` and an id). */
  link: string;
  /** A prefix, never a whole address: `203.0.113.0/24`, `2001:db8:1::/48`; `unknown`. */
  network: string;
  /** A coarse label of the User-Agent: `Firefox on Windows`, `curl`. */
  device: string;
  /** The first download of this row's current window, and the last one. */
  first_at: number;
  last_at: number;
  downloads: number;
}

/** One episode of sharing detection, from the flag to its clearing (migration 0025). */
export interface SharingFlagsTable {
  id: string;
  entitlement_id: string;
  flagged_at: number;
  /** Distinct networks and devices in the window when it was flagged. */
  networks: number;
  devices: number;
  /** The evidence when it was flagged: JSON, a list of sharing_signals rows. */
  evidence: string;
  /** The SHA-256 of the one-time confirmation link last mailed to the buyer, and its end. */
  confirm_hash: string | null;
  confirm_expires_at: number | null;
  cleared_at: number | null;
  /** `buyer` (the confirmation link), `seller`. */
  cleared_by: string | null;
}

export type SharingSignal = Selectable<SharingSignalsTable>;
export type SharingFlag = Selectable<SharingFlagsTable>;
