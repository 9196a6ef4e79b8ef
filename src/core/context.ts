import type { Db, Trx } from "../db/schema.ts";
import { toBase64Url, toHex } from "./encoding.ts";
import { forbidden, unauthenticated } from "./errors.ts";
import type {
  Clock,
  Crypto,
  DownloadLog,
  GroupCommit,
  Identity,
  LicenseSigner,
  Logger,
  Mailer,
  MalwareScanner,
  ObjectStore,
  Payments,
  PdfStamper,
  RateCounter,
  ReadCache,
  ReceiptSender,
  WebhookSender,
} from "./ports.ts";

/** What the rules need to know of the configuration. */
/** Checkout's settings as the configuration gives them, until the seller saves their own. */
export interface CheckoutDefaults {
  automaticTax: boolean;
  taxIdCollection: boolean;
  invoiceCreation: boolean;
  promotionCodes: boolean;
}

export interface Settings {
  publicUrl: string;
  shopName: string;
  delivery: {
    mode: "redirect" | "proxy";
    urlTtlSeconds: number;
    tokenTtlSeconds: number;
    tokenMaxUses: number | null;
  };
  maxUploadBytes: number;
  /**
   * Signs the shop's stateless tokens, each kind under its own prefix: direct uploads, free
   * claims (derived from the session secret, never stored).
   */
  linkSecret: string;
  adminEmails: string[];
  /** A full refund takes access away (the default), or leaves it as a goodwill gesture. */
  refundRevokesAccess: boolean;
  /** Sharing detection's defaults (SHARING_*); the seller's settings override them (decision 0028). */
  sharing: { enabled: boolean; networks: number; devices: number; windowHours: number };
  /** The Checkout settings' defaults (CHECKOUT_*); the seller's settings override them (decision 0029). */
  checkout: CheckoutDefaults;
  /**
   * Offline licence files are signed with a key the shop keeps (LICENSE_SIGNING_KEY, or one made
   * and stored for the embedded shop), not one derived from SESSION_SECRET.
   */
  licenseSigningKeyKept: boolean;
  /** Requests a minute the public licence API takes from one client, and for one key. */
  licenseRateLimit: number;
  /** Outgoing webhooks may go to loopback and private addresses (WEBHOOK_ALLOW_PRIVATE_URLS). */
  webhookAllowPrivateUrls: boolean;
  /** Update mails of releases sent a minute, at most (RELEASE_MAIL_RATE). */
  releaseMailRate: number;
  /**
   * A paid order nothing was downloaded of this long after payment gets one reminder with a fresh
   * link (DOWNLOAD_REMINDER_AFTER; null: off). Decision 0023.
   */
  downloadReminderAfterMs: number | null;
}

/** Built once per process (Node) or isolate (Workers) and shared by every request. */
export interface Deps {
  db: Db;
  store: ObjectStore;
  crypto: Crypto;
  clock: Clock;
  mailer: Mailer;
  payments: Payments;
  /** Sign-in and who a request is: built-in, or Supabase. */
  identity: Identity;
  log: Logger;
  settings: Settings;
  groupCommit?: GroupCommit;
  /** Sends queued receipts after the answer (Node); without it, right after their commit. */
  receiptSender?: ReceiptSender;
  /** Sends outgoing webhooks after the commit that recorded them (Node: in the background). */
  webhookSender?: WebhookSender;
  /** Sends queued update mails of releases after the publishing commit (decision 0018). */
  noticeSender?: ReceiptSender;
  /** Recent reads of what decides access (core/readCache.ts); every read goes to the database without it. */
  reads?: ReadCache;
  /** Writes download log rows after the answer, batched (Node); without it, before the answer. */
  downloadLog?: DownloadLog;
  /** Signs offline licence files; without it they cannot be issued (503). */
  licenseSigner?: LicenseSigner;
  /** Per-process counters for the public licence API's rate limits. */
  counters: RateCounter;
  /** Stamps buyers' PDFs (decision 0026); without it, copies wait for a process that has one. */
  pdfStamper?: PdfStamper;
  /** Stamps queued copies in the background (Node); Workers stamp from the per-minute Cron. */
  stampSender?: ReceiptSender;
  /** Scans every uploaded file before it is delivered (CLAMD_URL, decision 0027); none: no scan. */
  scanner?: MalwareScanner;
}

export interface Actor {
  /** The signed-in buyer, whose email has been verified by signing in. */
  user: { id: string; email: string } | null;
  admin: boolean;
}

export const anonymous: Actor = { user: null, admin: false };
export const system: Actor = { user: null, admin: true };

export interface Ctx extends Deps {
  actor: Actor;
  /**
   * Who set this work going, for the access history (core/access/history.ts): `stripe:{event
   * id}`, `cli`, `system`. Unset: the actor (the seller, or the signed-in buyer).
   */
  cause?: string;
  /** Set inside withTransaction; verbs use it through `db(ctx)`. */
  trx?: Trx;
}

/** The query builder for this context: the open transaction if there is one. */
export const db = (ctx: Ctx): Db | Trx => ctx.trx ?? ctx.db;

/** Runs fn in one transaction, joining the caller's if one is open, so verbs compose. */
export function withTransaction<T>(
  ctx: Ctx,
  fn: (ctx: Ctx & { trx: Trx }) => Promise<T>,
): Promise<T> {
  if (ctx.trx) return fn(ctx as Ctx & { trx: Trx });
  return ctx.db.transaction().execute((trx) => fn({ ...ctx, trx }));
}

/**
 * Runs a small write transaction whose commit may be shared with other requests' (group commit,
 * where the runtime offers it). `work` reports its outcome by returning: if anything in a shared
 * transaction throws, every work in it is run again in a transaction of its own.
 */
export function withSharedCommit<T>(
  ctx: Ctx,
  work: (ctx: Ctx & { trx: Trx }) => Promise<T>,
): Promise<T> {
  if (ctx.trx || !ctx.groupCommit) return withTransaction(ctx, work);
  return ctx.groupCommit.run((trx) => work({ ...ctx, trx }));
}

/**
 * One write outside any transaction that may share its commit with other requests' (group
 * commit, where the runtime offers it); otherwise it runs as it is.
 */
export function sharedWrite<T>(ctx: Ctx, write: (ctx: Ctx) => Promise<T>): Promise<T> {
  if (ctx.trx || !ctx.groupCommit) return write(ctx);
  return ctx.groupCommit.run((trx) => write({ ...ctx, trx }));
}

/**
 * An unguessable id that sorts by when it was made (12 hex digits of the millisecond, then 72
 * random bits), e.g. `dl_0193a1b2c3d4Xk...`: rows written in bulk then add to the end of their
 * primary-key index instead of all over it.
 */
export function newTimeOrderedId(ctx: Pick<Ctx, "crypto" | "clock">, prefix: string): string {
  const time = Math.max(0, Math.floor(ctx.clock.now())).toString(16).padStart(12, "0");
  return `${prefix}_${time}${toBase64Url(ctx.crypto.randomBytes(9))}`;
}

/** A new random id with a readable prefix, e.g. `prod_3kTq...`; unguessable. */
export function newId(ctx: Pick<Ctx, "crypto">, prefix: string): string {
  return `${prefix}_${toBase64Url(ctx.crypto.randomBytes(15))}`;
}

export function requireAdmin(ctx: Ctx): void {
  if (!ctx.actor.admin) {
    throw ctx.actor.user ? forbidden("This page is for the shop's admins.") : unauthenticated();
  }
}

export function requireUser(ctx: Ctx): { id: string; email: string } {
  if (!ctx.actor.user) throw unauthenticated();
  return ctx.actor.user;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Hex SHA-256: how tokens, codes and session ids are stored (never the secret itself). */
export async function sha256Hex(ctx: Pick<Ctx, "crypto">, value: string): Promise<string> {
  return toHex(await ctx.crypto.sha256(value));
}
