import { sql } from "kysely";
import { silentLogger } from "../../adapters/log-console/index.ts";
import { smtpMailer } from "../../adapters/mail-smtp/index.ts";
import { createStripeClient } from "../../adapters/stripe/client.ts";
import { type Config, ConfigError, isEmbedded, parseConfig } from "../../config.ts";
import { pendingMigrations } from "../../db/migrate.ts";
import { buildNodeRuntime, type NodeRuntime } from "../../runtime/node.ts";

type Status = "ok" | "warn" | "fail";
const MARK: Record<Status, string> = { ok: "✓", warn: "!", fail: "✗" };

/** Checks what a deployment needs and says in words what is wrong. Exit code 1 on any failure. */
export async function doctor() {
  const results: { status: Status; area: string; text: string }[] = [];
  const say = (status: Status, area: string, text: string) => {
    results.push({ status, area, text });
    console.log(`${MARK[status]} ${area.padEnd(9)} ${text}`);
  };

  let config: Config;
  try {
    config = parseConfig(process.env);
    say("ok", "config", "all variables parse");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) say("fail", "config", `${p.variable} ${p.message}`);
    process.exitCode = 1;
    return;
  }

  let runtime: NodeRuntime | null = null;
  try {
    runtime = await buildNodeRuntime(config, { log: silentLogger, migrate: false });
  } catch (error) {
    say(
      "fail",
      "startup",
      error instanceof ConfigError
        ? error.problems.map((p) => `${p.variable} ${p.message}`).join("; ")
        : describe(error),
    );
  }
  if (runtime) {
    await checkDatabase(runtime, say);
    try {
      await runtime.deps.store.check();
      say("ok", "storage", `${storageText(config)} is reachable and writable`);
    } catch (error) {
      say("fail", "storage", `STORAGE_URL ${storageText(config)}: ${describe(error)}`);
    }
    await runtime.close();
  }

  if (config.stripe.secretKey) {
    const live = config.stripe.secretKey.includes("_live_");
    const where = config.stripe.apiUrl ? ` (API at ${config.stripe.apiUrl})` : "";
    try {
      const stripe = createStripeClient({
        secretKey: config.stripe.secretKey,
        ...(config.stripe.apiUrl ? { apiUrl: config.stripe.apiUrl } : {}),
      });
      await stripe.events.list({ limit: 1 });
      say("ok", "payments", `Stripe ${live ? "live" : "test"} key works${where}`);
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
  } else {
    say(
      isEmbedded(config) ? "warn" : "fail",
      "payments",
      "STRIPE_SECRET_KEY is not set: payments use the local Stripe (fine for the offline demo only)",
    );
  }

  if (config.auth.kind === "supabase") await checkSupabase(config.auth.url, say);
  else say("ok", "login", "built-in email sign-in (link and 6-digit code)");

  const publicUrl = new URL(config.publicUrl);
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(publicUrl.hostname);
  if (publicUrl.protocol === "https:") say("ok", "url", `PUBLIC_URL ${config.publicUrl}`);
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
  else await checkMail(config, say);

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
  say(
    "ok",
    "delivery",
    `${config.delivery.mode} mode; signed URLs live ${config.delivery.urlTtlSeconds}s; links ${config.delivery.tokenTtlSeconds}s${config.delivery.tokenMaxUses ? `, ${config.delivery.tokenMaxUses} uses` : ""}`,
  );

  const failures = results.filter((r) => r.status === "fail").length;
  console.log(failures ? `\n${failures} problem(s) found.` : "\nNo problems found.");
  if (failures) process.exitCode = 1;
}

async function checkDatabase(runtime: NodeRuntime, say: (s: Status, a: string, t: string) => void) {
  const where = runtime.config.database.url.replace(/\/\/[^@/]*@/, "//***@");
  try {
    await sql`select 1`.execute(runtime.deps.db);
  } catch (error) {
    say("fail", "database", `DATABASE_URL ${where} is not reachable: ${describe(error)}`);
    return;
  }
  const pending = await pendingMigrations(runtime.deps.db, runtime.config.database.dialect);
  if (pending.length)
    say(
      "warn",
      "database",
      `${where} is reachable; ${pending.length} migration(s) pending (run: npx tollgate migrate)`,
    );
  else say("ok", "database", `${where} is reachable and up to date`);
}

/** SMTP: connect and log in without sending. HTTP API: checking the key would mean sending mail. */
async function checkMail(config: Config, say: (s: Status, a: string, t: string) => void) {
  const { kind, url, from } = config.mail;
  if (kind === "http") {
    const api = new URL(url);
    say(
      "ok",
      "mail",
      `mail API ${api.host}${api.pathname} is configured with MAIL_API_KEY, from ${from} (not contacted: doctor sends no mail)`,
    );
    return;
  }
  const smtp = smtpMailer({ url, from });
  try {
    await smtp.verify();
    say(
      "ok",
      "mail",
      smtp.user
        ? `SMTP server ${smtp.server} answers and accepts the login for "${smtp.user}"; mail from ${from}`
        : `SMTP server ${smtp.server} answers (no login in MAIL_URL); mail from ${from}`,
    );
  } catch (error) {
    say("fail", "mail", `MAIL_URL: ${describe(error)}`);
  } finally {
    smtp.close();
  }
}

function storageText(config: Config) {
  return config.storage.kind === "local"
    ? `folder ${config.storage.root}`
    : `bucket ${config.storage.bucket} at ${config.storage.endpoint}`;
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return (error as NodeJS.ErrnoException).code
      ? `${error.message} (${(error as NodeJS.ErrnoException).code})`
      : error.message;
  return String(error);
}

async function checkSupabase(url: string, say: (s: Status, a: string, t: string) => void) {
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
