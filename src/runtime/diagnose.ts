import { sql } from "kysely";
import { joseLicenseSigner } from "../adapters/signing-jose/index.ts";
import { createStripeClient } from "../adapters/stripe/client.ts";
import { stripePayments } from "../adapters/stripe/index.ts";
import { type Config, ConfigError, isEmbedded } from "../config.ts";
import type { MalwareScanner, ObjectStore } from "../core/ports.ts";
import { checkoutSettings } from "../core/shop/checkoutSettings.ts";
import { pendingMigrations } from "../db/migrate.ts";
import type { Db } from "../db/schema.ts";
import type { Diagnosis, HealthCheck, HealthStatus } from "../pages/admin/diagnosis.ts";

export type Say = (status: HealthStatus, area: string, text: string) => void;

/** What only some runtimes can check: Node has sockets (SMTP) and listens itself; Workers fetch. */
export interface PlatformChecks {
  /** Connects to MAIL_URL's SMTP server and logs in without sending; says what answered. */
  smtp?: (config: Config) => Promise<string>;
  /** Stripe through fetch (Workers have no Node http). */
  stripeOverFetch?: boolean;
  /** The runtime's own checks, such as where it listens. */
  more?: (config: Config, say: Say) => void;
  /** The file a licence signing key is generated into when config has none (the data folder). */
  generatedKeyFile?: (config: Config) => string | null;
}

/** What was built from the config, or why building it failed. */
export type Built = { db: Db; store: ObjectStore; scanner?: MalwareScanner } | { error: unknown };

/**
 * Checks what a deployment needs (config, database, storage, Stripe, login, URL, mail, admins,
 * delivery) and says in words what is wrong. `tollgate doctor` prints it; the settings page
 * shows it. No check sends mail or changes anything.
 */
export async function diagnose(
  config: Config,
  built: Built,
  platform: PlatformChecks,
): Promise<HealthCheck[]> {
  const results: HealthCheck[] = [];
  const say: Say = (status, area, text) => results.push({ status, area, text });
  say("ok", "config", "all variables parse");

  if ("error" in built) {
    const { error } = built;
    say(
      "fail",
      "startup",
      error instanceof ConfigError
        ? error.problems.map((p) => `${p.variable} ${p.message}`).join("; ")
        : describe(error),
    );
  } else {
    await checkDatabase(config, built.db, say);
    try {
      await built.store.check();
      say("ok", "storage", `${storageText(config)} is reachable and writable`);
    } catch (error) {
      say("fail", "storage", `STORAGE_URL ${storageText(config)}: ${describe(error)}`);
    }
  }

  if (config.clamd && !("error" in built)) await checkClamd(config, built.scanner, say, platform);

  if (await checkStripe(config, say, platform))
    await checkStripeTax(config, "error" in built ? null : built.db, say, platform);

  if (config.auth.kind === "supabase") await checkSupabase(config.auth.url, say);
  else say("ok", "login", "built-in email sign-in (link and 6-digit code)");

  const local = isLocal(config.publicUrl);
  if (new URL(config.publicUrl).protocol === "https:")
    say("ok", "url", `PUBLIC_URL ${config.publicUrl}`);
  else
    say(
      local ? "warn" : "fail",
      "url",
      `PUBLIC_URL ${config.publicUrl} is not https: ${local ? "fine on this machine only" : "session cookies and links need https in production"}`,
    );

  if (config.mail.kind === "outbox")
    say(
      local ? "warn" : "fail",
      "mail",
      "MAIL_URL is outbox: mail is kept at /dev/outbox and not sent to anyone",
    );
  else await checkMail(config, say, platform);
  platform.more?.(config, say);

  if (config.adminToken || config.adminEmails.length) {
    say(
      "ok",
      "admin",
      [
        config.adminToken ? "ADMIN_TOKEN set" : "",
        config.adminEmails.length ? `admins: ${config.adminEmails.join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; "),
    );
  } else {
    say(
      isEmbedded(config) ? "ok" : "warn",
      "admin",
      isEmbedded(config)
        ? "admin token generated in data/secrets.json"
        : "neither ADMIN_TOKEN nor ADMIN_EMAILS is set: nobody can use the admin API",
    );
  }
  await checkLicenseKey(config, say, platform);
  say(
    "ok",
    "delivery",
    `${config.delivery.mode} mode; signed URLs live ${config.delivery.urlTtlSeconds}s; links ${config.delivery.tokenTtlSeconds}s${config.delivery.tokenMaxUses ? `, ${config.delivery.tokenMaxUses} uses` : ""}`,
  );
  return results;
}

/** The settings a seller may see: never a secret, a key or a password. */
export function describeSettings(config: Config): Diagnosis["settings"] {
  return [
    { name: "Public URL", value: config.publicUrl },
    {
      name: "Delivery",
      value: `${config.delivery.mode === "redirect" ? "redirect to a signed storage URL" : "streamed by the shop (proxy)"}; signed URLs live ${config.delivery.urlTtlSeconds} s, links ${config.delivery.tokenTtlSeconds} s${config.delivery.tokenMaxUses ? ` or ${config.delivery.tokenMaxUses} uses` : ""}`,
    },
    { name: "Storage", value: storageText(config) },
    { name: "Database", value: config.database.dialect === "sqlite" ? "SQLite" : "Postgres" },
    {
      name: "Mail",
      value: { outbox: "outbox (not sent)", smtp: "SMTP", http: "HTTP mail API" }[config.mail.kind],
    },
    { name: "Sign-in", value: config.auth.kind === "supabase" ? "Supabase" : "built-in email" },
    {
      name: "Payments",
      value: config.stripe.secretKey
        ? `Stripe (${/_live_/.test(config.stripe.secretKey) ? "live" : "test"} mode)`
        : "local Stripe (offline demo)",
    },
    { name: "Admin emails", value: config.adminEmails.join(", ") || "none" },
    {
      name: "A full refund",
      value: config.refundRevokesAccess ? "ends access" : "keeps access (REFUND_REVOKES_ACCESS)",
    },
    {
      name: "Outgoing webhooks",
      value: config.webhookAllowPrivateUrls
        ? "may go to private addresses (WEBHOOK_ALLOW_PRIVATE_URLS)"
        : "public addresses only",
    },
  ];
}

async function checkDatabase(config: Config, db: Db, say: Say) {
  const where = config.database.url.replace(/\/\/[^@/]*@/, "//***@");
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    say("fail", "database", `DATABASE_URL ${where} is not reachable: ${describe(error)}`);
    return;
  }
  const pending = await pendingMigrations(db, config.database.dialect);
  if (pending.length)
    say(
      "warn",
      "database",
      `${where} is reachable; ${pending.length} migration(s) pending (run: npx tollgate migrate)`,
    );
  else say("ok", "database", `${where} is reachable and up to date`);
}

/** Whether Stripe answered the key (so further Stripe checks are worth making). */
async function checkStripe(config: Config, say: Say, platform: PlatformChecks): Promise<boolean> {
  if (!config.stripe.secretKey) {
    say(
      isEmbedded(config) ? "warn" : "fail",
      "payments",
      "STRIPE_SECRET_KEY is not set: payments use the local Stripe (fine for the offline demo only)",
    );
    return false;
  }
  let works = false;
  const live = config.stripe.secretKey.includes("_live_");
  const where = config.stripe.apiUrl ? ` (API at ${config.stripe.apiUrl})` : "";
  try {
    const stripe = createStripeClient({
      secretKey: config.stripe.secretKey,
      ...(config.stripe.apiUrl ? { apiUrl: config.stripe.apiUrl } : {}),
      ...(platform.stripeOverFetch ? { useFetch: true } : {}),
    });
    await stripe.events.list({ limit: 1 });
    say("ok", "payments", `Stripe ${live ? "live" : "test"} key works${where}`);
    works = true;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    say(
      "fail",
      "payments",
      status === 401
        ? `STRIPE_SECRET_KEY is rejected by Stripe${where}: check the key (Dashboard > Developers > API keys)`
        : `Stripe is not reachable${where}: ${describe(error)}`,
    );
  }
  say(
    config.stripe.webhookSecret ? "ok" : "fail",
    "webhooks",
    config.stripe.webhookSecret
      ? `webhook signing secret set; Stripe should send events to ${config.publicUrl}/webhooks/stripe`
      : "STRIPE_WEBHOOK_SECRET is missing: webhooks cannot be verified",
  );
  return works;
}

/**
 * With automatic tax on (the seller's Checkout settings over CHECKOUT_AUTOMATIC_TAX), Stripe Tax
 * collects tax only where the account has tax registrations: none means no tax at all, silently.
 */
async function checkStripeTax(
  config: Config,
  database: Db | null,
  say: Say,
  platform: PlatformChecks,
) {
  const { secretKey, webhookSecret, apiUrl } = config.stripe;
  if (!secretKey || !(await automaticTaxOn(config, database))) return;
  const where = apiUrl ? ` (API at ${apiUrl})` : "";
  let registrations: number | null;
  try {
    registrations = await stripePayments({
      secretKey,
      webhookSecret: webhookSecret ?? "",
      ...(apiUrl ? { apiUrl } : {}),
      runtime: platform.stripeOverFetch ? "workers" : "node",
    }).taxRegistrations();
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    say(
      "fail",
      "tax",
      status === 401 || status === 403
        ? `STRIPE_SECRET_KEY cannot read Stripe Tax registrations${where}: ${describe(error)} (a restricted key needs read access to Tax)`
        : `Stripe is not reachable${where}: ${describe(error)}`,
    );
    return;
  }
  if (registrations === null)
    say(
      "ok",
      "tax",
      `automatic tax is on; the Stripe server${where} cannot report Stripe Tax registrations (the local Stripe computes tax from its own table)`,
    );
  else if (registrations === 0)
    say(
      "warn",
      "tax",
      "automatic tax is on but the Stripe account has no tax registrations, so Checkout collects no tax. Add them in the Stripe Dashboard under Tax > Registrations, or turn automatic tax off with: npx tollgate checkout-settings --automatic-tax off",
    );
  else
    say(
      "ok",
      "tax",
      `Stripe Tax: ${registrations} registration${registrations === 1 ? "" : "s"}; automatic tax is on`,
    );
}

/** The seller's setting, or CHECKOUT_AUTOMATIC_TAX when none is saved or the database cannot say. */
async function automaticTaxOn(config: Config, database: Db | null): Promise<boolean> {
  if (!database) return config.checkout.automaticTax;
  try {
    const ctx = { db: database, settings: { checkout: config.checkout } };
    return (await checkoutSettings(ctx)).automaticTax;
  } catch {
    return config.checkout.automaticTax;
  }
}

/**
 * The key that signs offline licence files: LICENSE_SIGNING_KEY (imported and used to sign once
 * here: a private part that does not match its public part fails to import), the one generated
 * into the data folder, or else one derived from SESSION_SECRET, which a new session secret would
 * silently replace.
 */
async function checkLicenseKey(config: Config, say: Say, platform: PlatformChecks) {
  const keys = config.licenseSigningKeys;
  if (keys) {
    try {
      const signer = await joseLicenseSigner(keys);
      const published = await signer.publicKeys();
      await signer.sign({ sub: "doctor" });
      const count = published.keys.length;
      say(
        "ok",
        "licences",
        `LICENSE_SIGNING_KEY signs licence files with key ${String(published.keys[0]?.kid)}; ${count} key${count === 1 ? "" : "s"} published at ${config.publicUrl}/.well-known/jwks.json`,
      );
    } catch (error) {
      say(
        "fail",
        "licences",
        `LICENSE_SIGNING_KEY cannot sign licence files: ${describe(error)}. Make a new key with: npx tollgate license keygen`,
      );
    }
    return;
  }
  const file = platform.generatedKeyFile?.(config) ?? null;
  if (file)
    say(
      "ok",
      "licences",
      `licence files are signed with a key generated in ${file}; keep that file with the database (a new key would make every licence file already issued fail to verify)`,
    );
  else
    say(
      "warn",
      "licences",
      "LICENSE_SIGNING_KEY is not set: licence files are signed with a key derived from SESSION_SECRET, so changing that secret would invalidate every offline licence file already issued. Run npx tollgate license keygen and set LICENSE_SIGNING_KEY to what it prints",
    );
}

/** The HTTP mail API is only described: checking its key would mean sending mail. */
async function checkMail(config: Config, say: Say, platform: PlatformChecks) {
  const { kind, url, from } = config.mail;
  if (kind === "smtp" && platform.smtp) {
    try {
      say("ok", "mail", await platform.smtp(config));
    } catch (error) {
      say("fail", "mail", `MAIL_URL: ${describe(error)}`);
    }
    return;
  }
  const api = new URL(url);
  say(
    "ok",
    "mail",
    `mail API ${api.host}${api.pathname} is configured with MAIL_API_KEY, from ${from} (not contacted: doctor sends no mail)`,
  );
}

async function checkSupabase(url: string, say: Say) {
  const jwks = `${url}/auth/v1/.well-known/jwks.json`;
  try {
    const res = await fetch(jwks, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok)
      return say(
        "fail",
        "login",
        `SUPABASE_URL: ${jwks} answered ${res.status}; is the project URL right?`,
      );
    const { keys } = (await res.json()) as { keys?: { alg?: string }[] };
    if (keys?.length) {
      say(
        "ok",
        "login",
        `Supabase project keys found (${keys.map((k) => k.alg ?? "?").join(", ")}); tokens are verified locally`,
      );
    } else {
      say(
        "warn",
        "login",
        "Supabase project has no signing keys (legacy HS256): every new token is checked with Supabase",
      );
    }
  } catch (error) {
    say("fail", "login", `SUPABASE_URL: ${jwks} is not reachable: ${describe(error)}`);
  }
}

function storageText(config: Config): string {
  const storage = config.storage;
  if (storage.kind === "local") return `folder ${storage.root}`;
  if (storage.kind === "r2")
    return `R2 bucket ${storage.bucket} (binding ${storage.binding}${storage.s3 ? `, S3 API at ${storage.s3.endpoint}` : ""})`;
  return `bucket ${storage.bucket} at ${storage.endpoint}`;
}

/** clamd (CLAMD_URL) answers PING with PONG, and its version and signature database. */
async function checkClamd(
  config: Config,
  scanner: MalwareScanner | undefined,
  say: Say,
  platform: PlatformChecks,
) {
  if (!scanner) return;
  const url = `CLAMD_URL ${config.clamd ? `tcp://${config.clamd.host}:${config.clamd.port}` : ""}`;
  try {
    await scanner.ping();
  } catch (error) {
    say(
      "fail",
      "clamd",
      `${url}: ${describe(error)}. Until clamd answers, every upload is quarantined (scan failed) and not delivered: start clamd (e.g. systemctl start clamav-daemon) with TCPSocket and TCPAddr in clamd.conf matching CLAMD_URL${platform.stripeOverFetch ? ", reachable from Cloudflare's network (a Worker cannot reach a private address)" : ""}`,
    );
    return;
  }
  let version = "version not told";
  try {
    version = await scanner.version();
  } catch (error) {
    version = `VERSION failed: ${describe(error)}`;
  }
  say(
    "ok",
    "clamd",
    `${scanner.name} answers PING (PONG), ${version}: every upload is scanned before it is delivered; a file larger than clamd's StreamMaxLength (25 MB unless clamd.conf raises it, at most 4 GB) is quarantined as not scanned`,
  );
}

export function isLocal(publicUrl: string): boolean {
  return ["localhost", "127.0.0.1", "[::1]"].includes(new URL(publicUrl).hostname);
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** The settings page's view of `diagnose`, for AppDeps. */
export function diagnoser(
  config: Config,
  built: Built,
  platform: PlatformChecks,
): () => Promise<Diagnosis> {
  return async () => ({
    checks: await diagnose(config, built, platform),
    settings: describeSettings(config),
  });
}
