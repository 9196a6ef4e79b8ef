/**
 * Tollgate on Cloudflare Workers (DESIGN section 2, the seeds' stack): the same Hono app over
 * Postgres through Hyperdrive, R2 through its binding, Stripe over fetch with the async webhook
 * check, Web Crypto, the HTTP mail API and Supabase login. Dependencies are built once per
 * isolate from `env`. Background work runs after the answer (`waitUntil`) and from two Cron
 * Triggers: every minute the senders (webhook retries, update mails, receipts), every hour the
 * reconcile with Stripe and the deletion of expired records.
 */
import type { ExecutionContext } from "hono";
import { builtinIdentity } from "../adapters/auth-builtin/index.ts";
import { supabaseIdentity } from "../adapters/auth-supabase/index.ts";
import { webCrypto } from "../adapters/crypto-web/index.ts";
import { consoleLogger } from "../adapters/log-console/index.ts";
import { clamdScanner } from "../adapters/scanner-clamd/index.ts";
import { workerClamdConnect } from "../adapters/scanner-clamd/worker.ts";
import { R2BindingStore, type R2Bucket } from "../adapters/storage-r2/index.ts";
import { S3ObjectStore, signingCryptoFromPort } from "../adapters/storage-s3/index.ts";
import { stripePayments } from "../adapters/stripe/index.ts";
import { type Config, ConfigError, parseConfig, type S3Access } from "../config.ts";
import { type Ctx, system } from "../core/context.ts";
import { sweepExpired } from "../core/maintenance.ts";
import { alertBouncedReceipts } from "../core/orders/bounceAlerts.ts";
import { sendPaymentFailedMails } from "../core/orders/pastDue.ts";
import { resendUndeliveredReceipts, sendQueuedReceipts } from "../core/orders/receipts.ts";
import { reconcile } from "../core/orders/reconcile.ts";
import { watchDeliveries } from "../core/orders/watchdog.ts";
import type { Crypto, ObjectStore } from "../core/ports.ts";
import { changesAccess, readCache } from "../core/readCache.ts";
import { sendDueNotices, sendQueuedNotices } from "../core/releases/sendNotices.ts";
import { stampQueued } from "../core/stamping/stamps.ts";
import { nextWebhookDue } from "../core/webhooks/nextDue.ts";
import { sendDueWebhooks, TIMEOUT_MS } from "../core/webhooks/send.ts";
import { createApp } from "../http/app.ts";
import { assembleDeps, openWebMailer } from "./deps.ts";
import { diagnoser, type Say } from "./diagnose.ts";
import { openWorkerPostgres, type WorkerPostgres } from "./workerPostgres.ts";

/** The Worker's bindings: vars and secrets (strings), plus Hyperdrive and the R2 bucket. */
export interface WorkerEnv {
  HYPERDRIVE?: { connectionString: string };
  [name: string]: unknown;
}

interface ScheduledController {
  scheduledTime: number;
  cron: string;
}

/** How far back each hourly run asks Stripe for events: several runs overlap, none is missed. */
const RECONCILE_WINDOW_MS = 6 * 3600_000;
/** The Cron schedule that runs the senders alone; any other one (the hourly) does everything. */
const EVERY_MINUTE = "* * * * *";
/** How long Cloudflare lets waitUntil work go on after the answer, and a per-minute Cron run last. */
const BACKGROUND_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface WorkerRuntime {
  app: ReturnType<typeof createApp>;
  postgres: WorkerPostgres;
  systemCtx: Ctx;
  /** Set when a request recorded outgoing webhooks: sent after its answer (waitUntil). */
  webhooks: { due: boolean };
  /** Set when a publish queued update mails: the first batch goes after its answer. */
  notices: { due: boolean };
  stamps: { due: boolean };
}

let runtime: Promise<WorkerRuntime> | null = null;

/** Once per isolate; a failure is not kept, so the next request tries again. */
function runtimeFor(env: WorkerEnv): Promise<WorkerRuntime> {
  runtime ??= buildWorkerRuntime(env).catch((error) => {
    runtime = null;
    throw error;
  });
  return runtime;
}

async function buildWorkerRuntime(env: WorkerEnv): Promise<WorkerRuntime> {
  const record = configRecord(env);
  const config = parseConfig(record);
  requireWorkerShape(config, record);
  const log = consoleLogger();
  const crypto = webCrypto();
  const clock = { now: () => Date.now() };
  // Each isolate keeps its own read cache: its writes are seen at once, other isolates' within a
  // second (decision 0010).
  const reads = readCache();
  const postgres = openWorkerPostgres(config.database.url, {
    matters: changesAccess,
    changed: reads.forget,
  });
  const { db } = postgres;
  const store = openStore(config, env, crypto, clock.now);
  const { secretKey, webhookSecret, apiUrl } = config.stripe;
  const payments = stripePayments({
    secretKey: secretKey as string,
    webhookSecret: webhookSecret as string,
    runtime: "workers",
    ...(apiUrl ? { apiUrl } : {}),
  });
  const mailer = openWebMailer(config, { db, clock, crypto, log });
  // Outgoing webhooks leave after the answer, through waitUntil (the first retry too), later
  // retries with the per-minute Cron Trigger (decision 0017). An isolate cannot tell that the
  // shop has no endpoint: it asks.
  const webhooks = { due: false };
  const webhookSender = {
    wake: () => {
      webhooks.due = true;
    },
    endpointsMayExist: () => true,
    endpointsChanged: () => {},
  };
  // Update mails of a release: the first batch after the publishing commit (waitUntil), the
  // rest with the per-minute Cron Trigger, paced at the rate (decision 0018).
  const notices = { due: false };
  const noticeSender = {
    wake: () => {
      notices.due = true;
    },
  };
  // Buyers' stamped PDFs (decision 0026): after the paying request's answer (waitUntil), and
  // with the per-minute Cron Trigger; the PDF library is a chunk loaded on first use.
  const stamps = { due: false };
  const stampSender = {
    wake: () => {
      stamps.due = true;
    },
  };
  if (!mailer) throw new Error("unreachable: SMTP was refused by requireWorkerShape");
  // clamd through Workers' TCP sockets when CLAMD_URL is set (decision 0027).
  const scanner = config.clamd
    ? clamdScanner({ ...config.clamd, connect: workerClamdConnect })
    : undefined;
  const { deps, appDeps } = await assembleDeps(config, {
    db,
    store,
    ...(scanner ? { scanner } : {}),
    crypto,
    clock,
    mailer,
    payments,
    log,
    reads,
    webhookSender,
    noticeSender,
    stampSender,
    sessionSecret: config.sessionSecret as string,
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
    // Sign-in: Supabase Auth when AUTH=supabase, otherwise our own links, codes and sessions.
    identity: (mailer) =>
      config.auth.kind === "supabase"
        ? supabaseIdentity({ ...config.auth, publicUrl: config.publicUrl, now: clock.now })
        : builtinIdentity({ db, crypto, clock, mailer, publicUrl: config.publicUrl, reads }),
    clientIp: (c) => c.req.header("cf-connecting-ip") ?? null,
    fromThisMachine: () => false,
    diagnose: diagnoser(
      config,
      { db, store, ...(scanner ? { scanner } : {}) },
      { stripeOverFetch: true, more: workerFileLimits },
    ),
  });
  return {
    app: createApp(appDeps),
    postgres,
    systemCtx: { ...deps, actor: system },
    webhooks,
    notices,
    stamps,
  };
}

/** Vars and secrets are strings; the database comes from the Hyperdrive binding when there is one. */
function configRecord(env: WorkerEnv): Record<string, string | undefined> {
  const record: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env))
    if (typeof value === "string") record[name] = value;
  if (env.HYPERDRIVE?.connectionString) record.DATABASE_URL = env.HYPERDRIVE.connectionString;
  return record;
}

/** What the Node shape may default or generate, a Worker must be given. */
function requireWorkerShape(config: Config, record: Record<string, string | undefined>): void {
  const problems: { variable: string; message: string }[] = [];
  if (config.database.dialect !== "postgres")
    problems.push({
      variable: "DATABASE_URL",
      message: "Workers need Postgres: add a Hyperdrive binding named HYPERDRIVE",
    });
  if (config.storage.kind === "local")
    problems.push({
      variable: "STORAGE_URL",
      message: "Workers have no folder: use r2://<bucket> with an R2 binding",
    });
  if (!config.stripe.secretKey)
    problems.push({
      variable: "STRIPE_SECRET_KEY",
      message: "is required on Workers (wrangler secret put STRIPE_SECRET_KEY)",
    });
  if (!config.sessionSecret)
    problems.push({
      variable: "SESSION_SECRET",
      message:
        "is required on Workers (try: openssl rand -hex 32 | wrangler secret put SESSION_SECRET)",
    });
  if (config.mail.kind === "smtp")
    problems.push({
      variable: "MAIL_URL",
      message: "SMTP cannot run on Workers: use an HTTP mail API (https://...)",
    });
  if (!record.PUBLIC_URL?.trim())
    problems.push({
      variable: "PUBLIC_URL",
      message: "is required on Workers: links in mail point there (https://shop.example.com)",
    });
  if (problems.length) throw new ConfigError(problems);
}

function openStore(config: Config, env: WorkerEnv, crypto: Crypto, now: () => number): ObjectStore {
  const { storage } = config;
  if (storage.kind === "local") throw new Error("unreachable: refused by requireWorkerShape");
  // Presigned URLs are signed with crypto.subtle here; the signing key is still cached per day.
  const s3 = (bucket: string, access: S3Access) =>
    new S3ObjectStore({ ...access, bucket, signingCrypto: signingCryptoFromPort(crypto), now });
  if (storage.kind === "s3") return s3(storage.bucket, storage);
  const bucket = env[storage.binding] as R2Bucket | undefined;
  if (!bucket || typeof bucket !== "object" || typeof bucket.get !== "function")
    throw new ConfigError([
      {
        variable: "R2_BINDING",
        message: `there is no R2 bucket binding named ${storage.binding} (wrangler.jsonc: r2_buckets)`,
      },
    ]);
  return new R2BindingStore({
    bucket,
    ...(storage.s3 ? { s3: s3(storage.bucket, storage.s3) } : {}),
  });
}

/** A page in words for a Worker that cannot start: what is missing, never a stack trace. */
function startupFailure(error: unknown): Response {
  console.error("Tollgate could not start", error instanceof Error ? error.message : error);
  const lines =
    error instanceof ConfigError
      ? [
          "This shop is not set up correctly yet:",
          "",
          ...error.problems.map((p) => `  ${p.variable}: ${p.message}`),
          "",
          "Set the variables in wrangler.jsonc or with `wrangler secret put`, then deploy again.",
        ]
      : ["This shop cannot start right now. Please try again in a few minutes."];
  return new Response(`${lines.join("\n")}\n`, {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "60" },
  });
}

declare class FixedLengthStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(length: number);
}

/**
 * workerd sends a stream it cannot measure in chunks and drops its Content-Length, so a file
 * streamed through the download meter would arrive without a length (no progress bar, no
 * resume). A body whose length the app declared goes through a FixedLengthStream of that length.
 */
function keepLength(res: Response): Response {
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  if (!res.body || !Number.isSafeInteger(length)) return res;
  return new Response(res.body.pipeThrough(new FixedLengthStream(length)), res);
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let built: WorkerRuntime;
    try {
      built = await runtimeFor(env);
    } catch (error) {
      return startupFailure(error);
    }
    const res = await built.postgres.withConnections(async () =>
      built.app.fetch(request, env, ctx),
    );
    if (built.webhooks.due) {
      built.webhooks.due = false;
      ctx.waitUntil(sendWebhooksAfterAnswer(built, Date.now() + BACKGROUND_MS));
    }
    if (built.notices.due) {
      built.notices.due = false;
      const { systemCtx } = built;
      ctx.waitUntil(
        built.postgres
          .withConnections(() => sendQueuedNotices({ ctx: systemCtx }))
          .catch((error) =>
            systemCtx.log.error("update mails not sent; they stay queued", {
              error: String(error),
            }),
          ),
      );
    }
    if (built.stamps.due) {
      built.stamps.due = false;
      const { systemCtx } = built;
      ctx.waitUntil(
        built.postgres
          .withConnections(() => stampQueued({ ctx: systemCtx, input: { limit: 2 } }))
          .catch((error) =>
            systemCtx.log.error("PDFs not stamped; they stay queued", { error: String(error) }),
          ),
      );
    }
    return keepLength(res);
  },

  async scheduled(controller: ScheduledController, env: WorkerEnv, ctx: ExecutionContext) {
    const built = await runtimeFor(env);
    const deadline = Date.now() + BACKGROUND_MS;
    ctx.waitUntil(
      runScheduled(built, (c) =>
        controller.cron === EVERY_MINUTE
          ? sendersWork(c, deadline)
          : // The senders too, so that a Worker given one schedule of its own still sends.
            [...hourlyWork(c, controller.scheduledTime), ...sendersWork(c, deadline)],
      ),
    );
  },
};

/**
 * After an answer that recorded deliveries: the due ones are sent; and when one failed and its
 * retry falls due early enough to be tried (with its timeout) before waitUntil ends, it is tried
 * then, so the first retry is as prompt as on Node. Later retries: the per-minute Cron.
 */
async function sendWebhooksAfterAnswer(built: WorkerRuntime, deadline: number): Promise<void> {
  const { systemCtx: ctx, postgres } = built;
  try {
    const next = await postgres.withConnections(async () => {
      await sendWebhooksUntil(ctx, deadline);
      return nextWebhookDue(ctx);
    });
    if (next === null || next + TIMEOUT_MS >= deadline) return;
    await sleep(next - Date.now());
    await postgres.withConnections(() => sendWebhooksUntil(ctx, deadline));
  } catch (error) {
    ctx.log.error("webhooks not sent", { error: String(error) });
  }
}

/** Due deliveries a batch at a time, while one more batch and its timeout end before `deadline`. */
async function sendWebhooksUntil(ctx: Ctx, deadline: number): Promise<void> {
  while (Date.now() + TIMEOUT_MS < deadline)
    if ((await sendDueWebhooks({ ctx, input: { limit: 1 } })) === 0) return;
}

/**
 * Every minute, within the 30 s such a run is given: the webhook retries due, up to half a
 * minute's worth of update mails at the rate (paced), the receipts due again after a failed
 * try, and the delivery watchdog's pass. With nothing to do, each is one indexed statement.
 */
function sendersWork(ctx: Ctx, deadline: number): Promise<unknown>[] {
  return [
    sendWebhooksUntil(ctx, deadline),
    sendDueNotices({
      ctx,
      input: { budget: Math.ceil(ctx.settings.releaseMailRate / 2), pace: sleep },
    }),
    sendQueuedReceipts({ ctx }),
    // Stuck receipts and download reminders (decision 0023); claimed per order.
    watchDeliveries({ ctx }),
    // Bounced receipts, each alerted to the seller once (decision 0024).
    alertBouncedReceipts({ ctx }),
    // Stamped PDFs queued or due again (decision 0026); two a run, within the run's 30 s.
    stampQueued({ ctx, input: { limit: 2 } }),
  ];
}

/**
 * Every hour: events Stripe has that a webhook did not bring (an outage, a bad deploy) go through
 * the same fulfilment path, every receipt not yet sent is tried again, and expired records are
 * deleted.
 */
function hourlyWork(ctx: Ctx, scheduledTime: number): Promise<unknown>[] {
  return [
    reconcile({ ctx, input: { sinceMs: scheduledTime - RECONCILE_WINDOW_MS } }).then((report) => {
      if (report.failed.length) throw new Error(`${report.failed.length} event(s) failed`);
    }),
    resendUndeliveredReceipts({ ctx }),
    sendPaymentFailedMails({ ctx }),
    sweepExpired({ ctx }),
  ];
}

/**
 * A Cron run: all of its work runs even when one part fails; a failure fails the run, so the
 * dashboard shows it.
 */
async function runScheduled(
  built: WorkerRuntime,
  work: (ctx: Ctx) => Promise<unknown>[],
): Promise<void> {
  await built.postgres.withConnections(async () => {
    // What the run changes, the access history says the system did.
    const ctx: Ctx = { ...built.systemCtx, cause: "system" };
    const outcomes = await Promise.allSettled(work(ctx));
    const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
    for (const failure of failures)
      ctx.log.error("scheduled work failed", { error: String(failure) });
    if (failures.length) throw failures[0];
  });
}

/**
 * What differs for files on Workers (issue 19), said where the seller looks: request bodies stop
 * at 100 MB, so without R2's S3 keys uploads go through the Worker in 8 MiB parts (the R2
 * binding's multipart upload) rather than straight to the bucket; PDFs are stamped within an
 * isolate's memory.
 */
function workerFileLimits(config: Config, say: Say): void {
  if (config.storage.kind === "r2" && !config.storage.s3)
    say(
      "ok",
      "uploads",
      "files of up to 10 GB go through the Worker in 8 MiB parts that resume, into an R2 multipart upload that R2 joins; with S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and R2_ACCOUNT_ID (an R2 API token with Object Read & Write on this bucket) they would go straight to the bucket instead, the Worker only signing each part",
    );
  else
    say(
      "ok",
      "uploads",
      "files of up to 10 GB go straight to the bucket in 8 MiB parts that resume; the Worker only signs each part",
    );
  say(
    "ok",
    "stamping",
    "on Workers, PDFs of up to 32 MiB are stamped after the answer and by the per-minute Cron, two copies a run; larger ones follow the product's choice on failure (serve the original, or hold)",
  );
}
