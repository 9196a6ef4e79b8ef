import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { builtinIdentity } from "../adapters/auth-builtin/index.ts";
import { supabaseIdentity } from "../adapters/auth-supabase/index.ts";
import { nodeCrypto } from "../adapters/crypto-node/index.ts";
import { addressCheckedFetch } from "../adapters/fetch-node/index.ts";
import { bufferedStdio } from "../adapters/log-console/bufferedStdio.ts";
import { consoleLogger } from "../adapters/log-console/index.ts";
import { smtpMailer } from "../adapters/mail-smtp/index.ts";
import { clamdScanner } from "../adapters/scanner-clamd/index.ts";
import { nodeClamdConnect } from "../adapters/scanner-clamd/node.ts";
import { LocalObjectStore } from "../adapters/storage-local/index.ts";
import { S3ObjectStore } from "../adapters/storage-s3/index.ts";
import { nodeSigningCrypto } from "../adapters/storage-s3/node.ts";
import { stripePayments } from "../adapters/stripe/index.ts";
import { type Config, ConfigError, type SigningKey } from "../config.ts";
import { type Ctx, system } from "../core/context.ts";
import { backgroundReceiptSender } from "../core/orders/receipts.ts";
import type {
  Clock,
  Logger,
  MailTransport,
  ObjectStore,
  Payments,
  PdfStamper,
} from "../core/ports.ts";
import { changesAccess, readCache } from "../core/readCache.ts";
import { backgroundNoticeSender } from "../core/releases/sendNotices.ts";
import { backgroundStamper } from "../core/stamping/stamps.ts";
import { isPrivateHost } from "../core/webhooks/addresses.ts";
import { backgroundWebhookSender } from "../core/webhooks/send.ts";
import { groupCommit } from "../db/groupCommit.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { openPostgres } from "../db/postgres.ts";
import type { Db } from "../db/schema.ts";
import { openSqlite } from "../db/sqlite.ts";
import type { WriteWatch } from "../db/watchWrites.ts";
import { createApp } from "../http/app.ts";
import type { AppDeps } from "../http/env.ts";
import { startLocalStripe } from "../local-stripe/index.ts";
import { isFromThisMachine, nodeClientAddress } from "./clientAddress.ts";
import { assembleDeps, openWebMailer } from "./deps.ts";
import { diagnoser } from "./diagnose.ts";
import { nodeChecks } from "./diagnoseNode.ts";
import { batchedDownloadLog } from "./downloadLog.ts";
import { readNodeBody } from "./nodeBody.ts";
import { yieldWhileBusy } from "./pace.ts";
import { dataDir, loadOrCreateSecrets } from "./secrets.ts";

export interface NodeRuntime {
  config: Config;
  deps: AppDeps;
  /** A context that acts as the seller, for the CLI and start-up tasks. */
  systemCtx: Ctx;
  app: ReturnType<typeof createApp>;
  /** Writes what waits to be written after the answers (the download log), and resolves then. */
  settle(): Promise<void>;
  /** Resolves once the background receipt sender has nothing under way. */
  receiptsSettled(): Promise<void>;
  /** Resolves once the background webhook sender has nothing under way. */
  webhooksSettled(): Promise<void>;
  /** Resolves once the background sender of update mails has nothing under way. */
  noticesSettled(): Promise<void>;
  /** The local Stripe's API URL, when payments go to it. */
  localStripeUrl: string | null;
  close(): Promise<void>;
}

/** Builds every dependency once for this process. */
export async function buildNodeRuntime(
  config: Config,
  opts: {
    log?: Logger;
    migrate?: boolean;
    clock?: Clock;
    /** Run the local Stripe in this process (serve, tests) when no STRIPE_SECRET_KEY is set. */
    localStripe?: { port: number; webhookUrl: string };
    /** Tests: a PDF stamper of their own (slow, failing); otherwise the library's. */
    pdfStamper?: PdfStamper;
  } = {},
): Promise<NodeRuntime> {
  const log = opts.log ?? consoleLogger({ sink: bufferedStdio() });
  const reads = readCache();
  const db = openDatabase(config, { matters: changesAccess, changed: reads.forget }, log);
  const downloadLog = batchedDownloadLog(db, config.database.dialect, log);
  // Closed in reverse: the waiting download rows are written before the database closes.
  const closers: (() => Promise<void>)[] = [() => db.destroy(), downloadLog.flush];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch(() => {});
  };
  try {
    if (opts.migrate !== false) {
      const applied = await migrateToLatest(db, config.database.dialect);
      if (applied.length) log.info("database migrated", { applied: applied.join(",") });
    }
    const { sessionSecret, adminToken, localStripeWebhookSecret, licenseSigningKey } =
      resolveSecrets(config);
    const clock = opts.clock ?? { now: () => Date.now() };
    const store = openStore(config, sessionSecret, clock.now);
    const mailer = openMailer(config, { db, clock, crypto: nodeCrypto, log });
    closers.push(async () => (mailer as { close?: () => void }).close?.());
    // Receipts that payments queue are sent after the answer, in the background (decision 0011).
    const receiptSender = backgroundReceiptSender(log, { pace: yieldWhileBusy() });
    // Outgoing webhooks too, never connecting to a private address a name resolves to (0017).
    const webhookSender = backgroundWebhookSender(log, {
      publicFetch: addressCheckedFetch({
        refuse: (address) =>
          isPrivateHost(address) ? `The host resolves to ${address}, a private address.` : null,
      }),
    });
    // Update mails of releases, woken after the publishing commit, at RELEASE_MAIL_RATE (0018).
    const noticeSender = backgroundNoticeSender(log);
    // Buyers' stamped PDFs, made after the payment's commit, one at a time (decision 0026).
    const stampSender = backgroundStamper(log);
    const { payments, localStripeUrl } = await openPayments(
      config,
      localStripeWebhookSecret,
      opts.localStripe,
      log,
      closers,
    );
    // Every upload is scanned before it is delivered when CLAMD_URL is set (decision 0027).
    const scanner = config.clamd
      ? clamdScanner({ ...config.clamd, connect: nodeClamdConnect })
      : undefined;
    const { deps, appDeps } = await assembleDeps(config, {
      db,
      store,
      ...(scanner ? { scanner } : {}),
      crypto: nodeCrypto,
      clock,
      mailer,
      payments,
      log,
      groupCommit: groupCommit(db),
      receiptSender,
      webhookSender,
      noticeSender,
      stampSender,
      ...(opts.pdfStamper ? { pdfStamper: opts.pdfStamper } : {}),
      reads,
      downloadLog,
      sessionSecret,
      ...(adminToken ? { adminToken } : {}),
      ...(licenseSigningKey ? { generatedSigningKey: licenseSigningKey } : {}),
      ...(store instanceof LocalObjectStore ? { localFiles: store } : {}),
      // Sign-in: Supabase Auth when AUTH=supabase, otherwise our own links, codes and sessions.
      identity: (mailer) =>
        config.auth.kind === "supabase"
          ? supabaseIdentity({ ...config.auth, publicUrl: config.publicUrl, now: clock.now })
          : builtinIdentity({
              db,
              crypto: nodeCrypto,
              clock,
              mailer,
              publicUrl: config.publicUrl,
              reads,
            }),
      clientIp: nodeClientAddress(config.trustProxy),
      fromThisMachine: isFromThisMachine,
      readRawBody: readNodeBody,
      diagnose: diagnoser(config, { db, store, ...(scanner ? { scanner } : {}) }, nodeChecks),
    });
    receiptSender.start({ ...deps, actor: system });
    // Closed first: the receipts under way are sent before the mailer and the database close.
    closers.push(receiptSender.stop);
    webhookSender.start({ ...deps, actor: system });
    closers.push(webhookSender.stop);
    noticeSender.start({ ...deps, actor: system });
    closers.push(noticeSender.stop);
    stampSender.start({ ...deps, actor: system });
    closers.push(stampSender.stop);
    return {
      config,
      deps: appDeps,
      systemCtx: { ...deps, actor: system },
      app: createApp(appDeps),
      localStripeUrl,
      settle: downloadLog.flush,
      receiptsSettled: receiptSender.idle,
      webhooksSettled: webhookSender.idle,
      noticesSettled: noticeSender.idle,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function openDatabase(config: Config, watch: WriteWatch, log: Logger): Db {
  const { url, dialect, poolMax, statementTimeoutMs } = config.database;
  if (dialect === "postgres")
    return openPostgres({ connectionString: url, poolMax, statementTimeoutMs, watch });
  const filename = url.slice("sqlite:".length);
  if (filename !== ":memory:") mkdirSync(dirname(resolve(filename)), { recursive: true });
  return openSqlite(filename, {
    watch,
    checkpointsOffLoop: {
      onFailure: (error) =>
        log.error("background checkpoints stopped; commits checkpoint again", {
          error: String(error),
        }),
    },
  });
}

function resolveSecrets(config: Config): {
  sessionSecret: string;
  adminToken?: string;
  localStripeWebhookSecret: string;
  licenseSigningKey?: SigningKey;
} {
  const dir = dataDir(config);
  if (dir) {
    const generated = loadOrCreateSecrets(dir);
    return {
      sessionSecret: config.sessionSecret ?? generated.sessionSecret,
      adminToken: config.adminToken ?? generated.adminToken,
      localStripeWebhookSecret: generated.localStripeWebhookSecret,
      licenseSigningKey: generated.licenseSigningKey,
    };
  }
  if (!config.sessionSecret) {
    throw new ConfigError([
      {
        variable: "SESSION_SECRET",
        message: "is required with a Postgres database (try: openssl rand -hex 32)",
      },
    ]);
  }
  return {
    sessionSecret: config.sessionSecret,
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
    // No data folder to keep it in: derive it, so every process of the shop agrees on it.
    localStripeWebhookSecret: `whsec_${createHmac("sha256", config.sessionSecret).update("local-stripe-webhooks").digest("base64")}`,
  };
}

/** Where the local Stripe listens when the shop has no Stripe key: next to the shop's port. */
export function localStripeUrl(config: Config): string {
  return config.stripe.apiUrl ?? `http://127.0.0.1:${config.port + 1}`;
}

/**
 * Stripe with the seller's key; without one, the local Stripe (DESIGN section 8), started here
 * when asked, otherwise expected at STRIPE_API_URL (e.g. `tollgate local-stripe`).
 */
async function openPayments(
  config: Config,
  generatedSecret: string,
  local: { port: number; webhookUrl: string } | undefined,
  log: Logger,
  closers: (() => Promise<void>)[],
): Promise<{ payments: Payments; localStripeUrl: string | null }> {
  const { secretKey, webhookSecret, apiUrl } = config.stripe;
  if (secretKey && webhookSecret) {
    const payments = stripePayments({
      secretKey,
      webhookSecret,
      runtime: "node",
      ...(apiUrl ? { apiUrl } : {}),
    });
    return { payments, localStripeUrl: null };
  }
  const secret = webhookSecret ?? generatedSecret;
  let url = localStripeUrl(config);
  if (local && !apiUrl) {
    const dir = dataDir(config);
    const started = await startLocalStripe({
      port: local.port,
      stateFile: dir ? join(dir, "local-stripe.json") : null,
      webhookUrl: local.webhookUrl,
      webhookSecret: secret,
      log,
    });
    closers.push(started.close);
    url = started.url;
    log.info("local Stripe running", { url });
  }
  const payments = stripePayments({
    secretKey: "sk_test_local",
    webhookSecret: secret,
    apiUrl: url,
    runtime: "node",
  });
  return { payments, localStripeUrl: url };
}

function openStore(config: Config, secret: string, now: () => number): ObjectStore {
  if (config.storage.kind === "local") {
    mkdirSync(resolve(config.storage.root), { recursive: true });
    return new LocalObjectStore(config.storage.root, secret, config.publicUrl, now);
  }
  if (config.storage.kind === "r2") {
    throw new ConfigError([
      {
        variable: "STORAGE_URL",
        message: `r2://${config.storage.bucket} reaches R2 through a Workers binding; on Node use s3://${config.storage.bucket} with S3_ENDPOINT=https://<account>.r2.cloudflarestorage.com`,
      },
    ]);
  }
  const { endpoint, bucket, region, accessKeyId, secretAccessKey } = config.storage;
  return new S3ObjectStore({
    endpoint,
    bucket,
    region,
    accessKeyId,
    secretAccessKey,
    // Presigned download URLs are signed with node:crypto, synchronously (DESIGN section 12).
    signingCrypto: nodeSigningCrypto,
    now,
  });
}

/** The outbox offline; SMTP or an HTTP mail API in production, as MAIL_URL's scheme says. */
function openMailer(config: Config, deps: Parameters<typeof openWebMailer>[1]): MailTransport {
  return (
    openWebMailer(config, deps) ?? smtpMailer({ url: config.mail.url, from: config.mail.from })
  );
}
