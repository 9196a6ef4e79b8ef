/**
 * The shapes of the API's answers, for the reference: what serialize.ts and the routes build.
 * Requests are described by the core's own schemas (the ones its verbs parse with); answers have
 * no schema in the app, so these are written here, strict (no field more or less), and
 * test/http/openapi.test.ts parses real answers with them: a field added to an answer and not
 * here fails it. Only openapi/document.ts uses them at run time (never the Worker: decision 0014).
 */
import { intervalSchema, productKindSchema } from "../../core/catalog/schemas.ts";
import * as z from "../../core/zod.ts";

const id = z.string();
/** A moment, as `toISOString()` writes it. */
const time = z.iso.datetime();
const maybe = <T extends z.core.$ZodType>(schema: T) => z.nullable(schema);

const product = z.strictObject({
  id,
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  kind: productKindSchema,
  price: z.strictObject({
    /** Minor units (cents). */
    amount: z.number().check(z.int()),
    currency: z.string(),
  }),
  interval: maybe(intervalSchema),
  stripePriceId: maybe(z.string()),
  active: z.boolean(),
  /** The same as `active`: published by the seller, on sale once it has an active file. */
  published: z.boolean(),
  license: z.strictObject({
    enabled: z.boolean(),
    activationLimit: maybe(z.number().check(z.int())),
    expiresWithAccess: z.boolean(),
  }),
  /** What a failed subscription payment, a refund and a dispute do to access (decision 0020). */
  grace: z.strictObject({
    /** Days of access kept after a subscription payment failed; 0: none. */
    pastDueDays: z.number().check(z.int()),
    /** A full refund takes access away (the product's setting, else REFUND_REVOKES_ACCESS). */
    refundRevokes: z.boolean(),
    /** An opened dispute suspends access; a lost one revokes it either way. */
    disputeSuspends: z.boolean(),
  }),
  /** The cover image's public, permanent URL (`{PUBLIC_URL}/images/{sha256}.{ext}`); null without one. */
  coverUrl: maybe(z.string()),
  /** Downloads of each file each buyer may make; null: no limit. */
  downloadLimit: maybe(z.number().check(z.int())),
  /**
   * PDF stamping: each buyer's PDFs carry their email, order and a trace id; when a copy cannot
   * be stamped, its download serves the original or holds the file.
   */
  stamp: z.strictObject({ pdfs: z.boolean(), onFailure: z.enum(["original", "hold"]) }),
  /** Pay what you want: the buyer chooses at least `minimum`; `suggested` is offered first. Null: a fixed price. */
  payWhatYouWant: maybe(
    z.strictObject({ minimum: z.number().check(z.int()), suggested: z.number().check(z.int()) }),
  ),
  /** The usual price, shown crossed out while the price is below it (a sale); null: none. */
  listPrice: maybe(z.number().check(z.int())),
  /** Stripe's tax code for the product (txcd_...), sent with automatic tax; null: the account's default. */
  taxCode: maybe(z.string()),
  createdAt: time,
  updatedAt: time,
});

const asset = z.strictObject({
  id,
  productId: id,
  filename: z.string(),
  size: z.number().check(z.int()),
  sha256: z.string(),
  contentType: z.string(),
  version: z.number().check(z.int()),
  active: z.boolean(),
  createdAt: time,
  /**
   * The malware scan (CLAMD_URL, decision 0027): "infected" and "failed" files are quarantined,
   * never delivered; "unscanned" ones were recorded without a scanner and are delivered.
   */
  scan: z.enum(["unscanned", "clean", "infected", "failed"]),
  /** What clamd found, when infected. */
  signature: maybe(z.string()),
  /** Why the scan failed (too large for clamd's StreamMaxLength, unreachable), when failed. */
  scanError: maybe(z.string()),
  scannedAt: maybe(time),
});

const entitlement = z.strictObject({
  id,
  /** Slug and name are given where the answer lists entitlements. */
  product: z.strictObject({ id, slug: z.optional(z.string()), name: z.optional(z.string()) }),
  email: maybe(z.string()),
  userId: maybe(id),
  source: z.enum(["purchase", "subscription", "grant", "free"]),
  status: z.enum(["active", "revoked", "suspended"]),
  startsAt: time,
  endsAt: maybe(time),
  revokedReason: maybe(z.string()),
  createdAt: time,
});

const order = z.strictObject({
  id,
  /** What the buyer's receipt calls the order ("7KQ4M-2ZPXA"). */
  reference: z.string(),
  product: z.string(),
  status: z.enum(["pending", "paid", "failed", "abandoned", "refunded", "disputed"]),
  email: maybe(z.string()),
  userId: maybe(id),
  amount: z.number().check(z.int()),
  currency: z.string(),
  /** The price, or the amount the buyer chose (minor units). */
  subtotal: z.number().check(z.int()),
  /** Taken off by a promotion code. */
  discount: z.number().check(z.int()),
  /** Added to the subtotal, or contained in it when prices include tax. */
  tax: z.number().check(z.int()),
  /** What the buyer paid. */
  total: z.number().check(z.int()),
  /** The total less tax: what the seller keeps before the provider's fees. */
  net: z.number().check(z.int()),
  /** A business buyer's tax IDs as typed at checkout. */
  taxIds: z.array(z.strictObject({ type: z.string(), value: z.string() })),
  /** The country tax was computed for. */
  country: maybe(z.string()),
  /** The invoice the payment made at the provider. */
  invoiceId: maybe(z.string()),
  checkoutSessionId: maybe(z.string()),
  paymentIntentId: maybe(z.string()),
  subscriptionId: maybe(z.string()),
  flag: maybe(z.string()),
  receipt: z.enum(["pending", "sent", "bounced"]),
  receiptBounce: maybe(z.strictObject({ at: time, reason: z.string() })),
  createdAt: time,
  updatedAt: time,
});

const download = z.strictObject({
  id,
  createdAt: time,
  product: z.string(),
  assetId: id,
  filename: z.string(),
  entitlementId: id,
  email: maybe(z.string()),
  userId: maybe(id),
  via: z.enum(["token", "library"]),
  tokenId: maybe(id),
  ip: maybe(z.string()),
  userAgent: maybe(z.string()),
});

const webhookEvent = z.strictObject({
  id,
  type: z.string(),
  status: z.string(),
  error: maybe(z.string()),
  receivedAt: time,
  processedAt: maybe(time),
});

const mail = z.strictObject({
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: maybe(z.string()),
  createdAt: time,
});

const storedPart = z.strictObject({
  partNumber: z.number().check(z.int()),
  size: z.number().check(z.int()),
  etag: z.string(),
});

const upload = z.union([
  z.strictObject({
    uploadId: z.string(),
    kind: z.optional(z.literal("put")),
    method: z.literal("PUT"),
    url: z.string(),
    /** Send these headers with the PUT. */
    headers: z.record(z.string(), z.string()),
    /** When the URL stops working (an hour). */
    expiresAt: time,
  }),
  z.strictObject({
    uploadId: z.string(),
    /** multipart: parts straight to storage; chunked: parts through the shop (local storage). */
    kind: z.optional(z.enum(["multipart", "chunked"])),
    partSize: z.number().check(z.int()),
    partCount: z.optional(z.number().check(z.int())),
    /** Only without `resumable`: every part's URL, each working for an hour. */
    parts: z.optional(
      z.array(
        z.strictObject({
          partNumber: z.number().check(z.int()),
          url: z.string(),
          size: z.number().check(z.int()),
        }),
      ),
    ),
    /** Until when the upload can be resumed and completed. */
    expiresAt: time,
  }),
  z.strictObject({ uploadId: z.null(), method: z.literal("POST"), url: z.string() }),
]);

const uploadPart = z.strictObject({
  partNumber: z.number().check(z.int()),
  /** The part's exact size in bytes. */
  size: z.number().check(z.int()),
  method: z.literal("PUT"),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  expiresAt: time,
});

const uploadStatus = z.strictObject({
  kind: z.enum(["put", "multipart", "chunked"]),
  filename: z.string(),
  size: z.number().check(z.int()),
  partSize: z.number().check(z.int()),
  partCount: z.number().check(z.int()),
  /** The parts that arrived, in order. */
  parts: z.array(storedPart),
  uploadedBytes: z.number().check(z.int()),
  /** The file's id once completed. */
  assetId: maybe(z.string()),
  expiresAt: time,
});

const licenseStatus = z.enum(["active", "expired", "refunded", "disputed", "revoked"]);

/** A machine a key is activated on, as the seller's app sees it. */
const activation = z.strictObject({
  id,
  fingerprint: z.string(),
  label: maybe(z.string()),
  firstSeenAt: time,
  lastSeenAt: time,
});

/** A licence as the seller's app sees it: no owner, no order. */
const publicLicense = z.strictObject({
  product: z.string(),
  status: licenseStatus,
  expiresAt: maybe(time),
  activations: z.number().check(z.int()),
  activationLimit: maybe(z.number().check(z.int())),
});

/** A release as buyers see it: version, notes, manifest and what changed. */
const releaseManifest = z.strictObject({
  id,
  version: z.string(),
  /** Markdown. */
  notes: z.string(),
  publishedAt: time,
  /** The manifest: the product's active files when the release was published. */
  files: z.array(
    z.strictObject({
      id,
      filename: z.string(),
      size: z.number().check(z.int()),
      sha256: z.string(),
    }),
  ),
  /** Against the previous release, by file name. */
  changes: z.strictObject({
    added: z.array(z.string()),
    changed: z.array(z.string()),
    removed: z.array(z.string()),
  }),
});

/** A release as the seller sees it. */
const release = z.strictObject({
  ...releaseManifest.shape,
  /** Whether past buyers were to be mailed. */
  notify: z.boolean(),
  /** The update mails' progress; null when nobody was to be mailed. */
  notices: maybe(
    z.strictObject({
      total: z.number().check(z.int()),
      sent: z.number().check(z.int()),
      failed: z.number().check(z.int()),
      skipped: z.number().check(z.int()),
    }),
  ),
});

/** A licence as the seller sees it. */
const license = z.strictObject({
  id,
  key: z.string(),
  product: z.strictObject({ slug: z.string(), name: z.string() }),
  owner: z.strictObject({ email: maybe(z.string()), userId: maybe(id) }),
  entitlementId: id,
  orderId: maybe(id),
  source: z.enum(["purchase", "subscription", "grant", "free"]),
  status: licenseStatus,
  reason: maybe(z.string()),
  expiresAt: maybe(time),
  activationLimit: maybe(z.number().check(z.int())),
  /** The seller set this key's limit (else the product's applies). */
  ownLimit: z.boolean(),
  activationCount: z.number().check(z.int()),
  activations: z.array(z.strictObject({ ...activation.shape, ip: maybe(z.string()) })),
  createdAt: time,
  revokedAt: maybe(time),
});

const customerState = z.strictObject({
  email: maybe(z.string()),
  products: z.array(
    z.strictObject({
      product: z.string(),
      name: z.string(),
      /** Access works now. */
      owned: z.boolean(),
      status: licenseStatus,
      source: z.enum(["purchase", "subscription", "grant", "free"]),
      startsAt: time,
      endsAt: maybe(time),
    }),
  ),
  licenses: z.array(
    z.strictObject({
      id,
      key: z.string(),
      product: z.string(),
      status: licenseStatus,
      expiresAt: maybe(time),
      activations: z.number().check(z.int()),
      activationLimit: maybe(z.number().check(z.int())),
    }),
  ),
});

/** Each answer, by the name routes give in `apiDoc({ response })` and the document lists. */
const shop = z.strictObject({
  name: z.string(),
  supportEmail: maybe(z.string()),
  /** An IANA zone: every date the shop shows is in it. */
  timeZone: z.string(),
  /** Public and permanent, like a cover: `/images/{sha256}.{ext}` under the shop's URL. */
  logoUrl: maybe(z.string()),
});

const webhookEndpoint = z.strictObject({
  id,
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: maybe(z.string()),
  /** The first failed delivery since the last good one. */
  failingSince: maybe(time),
  createdAt: time,
});
const webhookDelivery = z.strictObject({
  id,
  endpointId: id,
  /** The webhook-id header. */
  messageId: id,
  type: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().check(z.int()),
  responseStatus: maybe(z.number().check(z.int())),
  lastError: maybe(z.string()),
  lastAttemptAt: maybe(time),
  nextAttemptAt: maybe(time),
  createdAt: time,
});

export const responses = {
  WebhookEndpoint: webhookEndpoint,
  WebhookEndpointCreated: z.strictObject({
    ...webhookEndpoint.shape,
    /** whsec_ and base64: shown this once. */
    secret: z.string(),
  }),
  WebhookEndpoints: z.strictObject({ endpoints: z.array(webhookEndpoint) }),
  WebhookEndpointDeleted: z.strictObject({ deleted: z.boolean() }),
  WebhookDelivery: webhookDelivery,
  WebhookDeliveries: z.strictObject({ deliveries: z.array(webhookDelivery) }),
  Shop: shop,
  CheckoutSettings: z.strictObject({
    automaticTax: z.boolean(),
    taxIdCollection: z.boolean(),
    /** An invoice for each one-time payment (subscriptions always have theirs). */
    invoiceCreation: z.boolean(),
    promotionCodes: z.boolean(),
    taxBehavior: z.enum(["exclusive", "inclusive"]),
  }),
  Product: product,
  Products: z.strictObject({ products: z.array(product) }),
  ProductWithAssets: z.strictObject({ ...product.shape, assets: z.array(asset) }),
  Asset: asset,
  Assets: z.strictObject({ assets: z.array(asset) }),
  Upload: upload,
  UploadAborted: z.strictObject({ aborted: z.boolean() }),
  UploadPart: uploadPart,
  UploadedPart: storedPart,
  UploadStatus: uploadStatus,
  Entitlement: entitlement,
  Entitlements: z.strictObject({ entitlements: z.array(entitlement) }),
  DownloadLink: z.strictObject({ token: z.string(), url: z.string(), expiresAt: time }),
  Downloads: z.strictObject({ downloads: z.array(download) }),
  Orders: z.strictObject({ orders: z.array(order) }),
  OrderDownloads: z.strictObject({
    orderId: id,
    product: z.strictObject({
      slug: z.string(),
      name: z.string(),
      /** Downloads of each file each buyer may make; null: no limit. */
      downloadLimit: maybe(z.number().check(z.int())),
    }),
    /** The product's active files, in the order every page shows them. */
    files: z.array(
      z.strictObject({
        id,
        filename: z.string(),
        /** Downloads counted for the order's buyer (repeats within 10 minutes count once). */
        downloads: z.number().check(z.int()),
        /** null: the product has no limit. */
        downloadsLeft: maybe(z.number().check(z.int())),
      }),
    ),
  }),
  OrderReopened: z.strictObject({
    orderId: id,
    /** What the buyer's receipt calls the order. */
    reference: z.string(),
    entitlementId: id,
    /** Access works until then. */
    until: time,
    /** Where the fresh link was mailed. */
    mailedTo: z.string(),
    /** False when the mail could not be sent: the access is re-opened all the same. */
    mailed: z.boolean(),
  }),
  WebhookEvents: z.strictObject({ events: z.array(webhookEvent) }),
  Replay: z.strictObject({
    id,
    outcome: maybe(
      z.strictObject({
        status: z.enum(["processed", "ignored", "flagged"]),
        note: z.optional(z.string()),
      }),
    ),
  }),
  Outbox: z.strictObject({ messages: z.array(mail) }),
  Release: release,
  Releases: z.strictObject({ releases: z.array(release) }),
  License: license,
  Licenses: z.strictObject({ licenses: z.array(license) }),
  LicenseReset: z.strictObject({ freed: z.number().check(z.int()), license }),
  CustomerState: customerState,
  AccessHistory: z.strictObject({
    email: z.string(),
    product: z.strictObject({ slug: z.string(), name: z.string() }),
    /** The access rule's answer now: what a download by this customer would get. */
    hasAccess: z.boolean(),
    /** Why, in one sentence: "ana@example.com has access to Icon Kit: bought on 4 Dec 2026 (order 7KQ4M-2ZPXA)." */
    sentence: z.string(),
    /** Every change to the customer's entitlements to the product, newest first. */
    history: z.array(
      z.strictObject({
        at: time,
        change: z.enum([
          "granted",
          "revoked",
          "suspended",
          "restored",
          "expired",
          "limit_changed",
          "reopened",
          "grace_started",
          "sharing_flagged",
          "sharing_cleared",
        ]),
        /** `stripe:{event id}`, `seller`, `cli`, `system` or `buyer`; `unknown` for what came before the history. */
        by: z.string(),
        reason: maybe(z.string()),
        entitlementId: id,
        source: z.enum(["purchase", "subscription", "grant", "free"]),
      }),
    ),
  }),
  Activated: z.strictObject({ activation, license: publicLicense }),
  Validation: z.strictObject({
    valid: z.boolean(),
    /** "valid", or why not: "refunded", "disputed", "revoked", "expired", "not_activated". */
    code: z.enum(["valid", "refunded", "disputed", "revoked", "expired", "not_activated"]),
    reason: z.optional(z.string()),
    license: publicLicense,
    /** This machine's activation, when a fingerprint was given and is activated. */
    activation: z.optional(activation),
  }),
  Deactivated: z.strictObject({ deactivated: z.boolean(), license: publicLicense }),
  LicenseFile: z.strictObject({
    /** The compact JWS (EdDSA), to keep as the machine's licence file. */
    licenseFile: z.string(),
    expiresAt: time,
  }),
  Jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())) }),
  Library: z.strictObject({
    items: z.array(
      z.strictObject({
        product: z.strictObject({ slug: z.string(), name: z.string() }),
        /** null: access does not end. */
        accessEndsAt: maybe(time),
        /** The buyer's key to the product; null when it carries no licence. */
        license: maybe(
          z.strictObject({
            id,
            key: z.string(),
            status: licenseStatus,
            activationLimit: maybe(z.number().check(z.int())),
            activations: z.number().check(z.int()),
          }),
        ),
        files: z.array(
          z.strictObject({
            id,
            filename: z.string(),
            size: z.number().check(z.int()),
            sha256: maybe(z.string()),
            version: z.number().check(z.int()),
            /** Signs a short-lived link on each use; needs the buyer's session. */
            downloadUrl: z.string(),
            /** Downloads of this file left under the product's limit; null: no limit. */
            downloadsLeft: maybe(z.number().check(z.int())),
          }),
        ),
        /** null: no release published yet. */
        releases: maybe(
          z.strictObject({
            current: releaseManifest,
            /** Newest first. */
            earlier: z.array(releaseManifest),
            /** The current release's changed and added files as one zip: add `?since={version}`. */
            changesUrl: z.string(),
          }),
        ),
      }),
    ),
  }),
  Me: z.strictObject({
    user: maybe(z.strictObject({ id, email: z.string() })),
    admin: z.boolean(),
  }),
} satisfies Record<string, z.core.$ZodType>;

export type ResponseName = keyof typeof responses;

/**
 * Every error's body (src/http/errors.ts): a code a program can act on, a sentence for people,
 * and the id in the server's log. A verb may add facts of its own (a licence's limit in use).
 */
export const errorBody = z.looseObject({
  /** The status's own code, or a more precise one the call names (a licence's "activation_limit"). */
  code: z.string(),
  message: z.string(),
  requestId: z.string(),
  /** With invalid_input: each field that was refused, and why. */
  fields: z.optional(z.array(z.strictObject({ field: z.string(), message: z.string() }))),
});
