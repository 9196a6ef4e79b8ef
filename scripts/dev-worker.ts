/**
 * `npm run dev:worker`: the Worker build served on this machine in workerd (issue 21), with the
 * settings `npm start` takes, under the same names, from the environment. So the scripts and
 * tests that drive the Node server drive the Worker alike.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop npm run dev:worker
 *
 * What a Worker must be given and the Node shape makes up, this does as `npm start` does: the
 * database is migrated on start; SESSION_SECRET, ADMIN_TOKEN and the licence key are generated
 * into ./data/secrets.json; without STRIPE_SECRET_KEY the local Stripe runs on PORT+1 and sends
 * its webhooks to the Worker; mail goes to the outbox table (GET /api/admin/outbox) unless
 * MAIL_URL names an HTTP mail API; files go to the R2 bucket of wrangler.jsonc, kept in
 * ./data/r2. The Cron Triggers run on their schedules, and GET /__scheduled?cron=... runs one now.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { CONFIG_VARIABLES, ConfigError, parseConfig } from "../src/config.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { openPostgres } from "../src/db/postgres.ts";
import { startLocalStripe } from "../src/local-stripe/index.ts";
import { loadOrCreateSecrets } from "../src/runtime/secrets.ts";
import { buildWorker } from "./build-worker.ts";
import { readWrangler, startLocalWorker } from "./worker-local.ts";

const EVERY_MINUTE = "* * * * *";

/** The environment a dev Worker runs with, and what this script must start beside it. */
export function devWorkerSettings(env: NodeJS.ProcessEnv, dataDir: string) {
  const wrangler = readWrangler();
  const host = env.HOST?.trim() || "127.0.0.1";
  const port = Number(env.PORT?.trim() || 8787);
  const databaseUrl = env.DATABASE_URL?.trim() ?? "";
  if (!/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError([
      {
        variable: "DATABASE_URL",
        message:
          "the Worker reaches Postgres through Hyperdrive: set a Postgres URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop npm run dev:worker",
      },
    ]);
  const browsable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const secrets = loadOrCreateSecrets(dataDir);
  const vars: Record<string, string> = {
    PUBLIC_URL: `http://${browsable}:${port}`,
    STORAGE_URL: `r2://${wrangler.r2_buckets[0]?.bucket_name ?? "tollgate-files"}`,
    AUTH: "builtin",
    SESSION_SECRET: secrets.sessionSecret,
    ADMIN_TOKEN: secrets.adminToken,
    LICENSE_SIGNING_KEY: JSON.stringify(secrets.licenseSigningKey),
  };
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "" && name !== "DATABASE_URL") vars[name] = value;
  }
  const localStripe = !vars.STRIPE_SECRET_KEY;
  if (localStripe) {
    vars.STRIPE_SECRET_KEY = "sk_test_local";
    vars.STRIPE_WEBHOOK_SECRET ??= secrets.localStripeWebhookSecret;
    vars.STRIPE_API_URL ??= `http://${browsable}:${port + 1}`;
  }
  // Checked as the Worker will check it, so a mistake is said here in the config's words.
  parseConfig({ ...vars, DATABASE_URL: databaseUrl });
  return { host, port, databaseUrl, vars, localStripe };
}

async function main() {
  const dataDir = resolve("data");
  mkdirSync(dataDir, { recursive: true });
  const settings = devWorkerSettings(process.env, dataDir);
  const { host, port, databaseUrl, vars } = settings;

  const db = openPostgres({ connectionString: databaseUrl });
  try {
    await migrateToLatest(db, "postgres");
  } finally {
    await db.destroy();
  }

  const closers: (() => Promise<void>)[] = [];
  if (settings.localStripe && !process.env.STRIPE_API_URL) {
    const stripe = await startLocalStripe({
      port: port + 1,
      host,
      stateFile: join(dataDir, "local-stripe.json"),
      webhookUrl: `${vars.PUBLIC_URL}/webhooks/stripe`,
      webhookSecret: vars.STRIPE_WEBHOOK_SECRET as string,
    });
    closers.push(stripe.close);
  }

  // Built into the data folder: what `wrangler deploy` uploads (dist/worker) is never touched,
  // and two dev Workers in two folders never build over each other.
  const bundle = await buildWorker(join(dataDir, "worker", "index.js"));
  const worker = await startLocalWorker({
    bundle,
    vars,
    databaseUrl,
    port,
    host,
    r2Folder: join(dataDir, "r2"),
    testScheduled: true,
  });
  closers.unshift(worker.close);

  // The Cron Triggers on their schedules, as Cloudflare runs them.
  const [, hourly] = readWrangler().triggers.crons;
  const tick = setInterval(() => {
    const cron = hourly && new Date().getUTCMinutes() === 17 ? hourly : EVERY_MINUTE;
    worker.scheduled(cron).catch((error) => console.error("scheduled run failed:", error));
  }, 60_000);
  closers.push(async () => clearInterval(tick));

  console.log(`Tollgate (Worker, workerd) listening on ${host}:${port}`);
  console.log(`  Shop:          ${vars.PUBLIC_URL}`);
  console.log(`  Seller pages:  ${vars.PUBLIC_URL}/admin  (ADMIN_TOKEN in data/secrets.json)`);
  if (settings.localStripe) console.log(`  Local Stripe:  ${vars.STRIPE_API_URL}`);
  if (!process.env.MAIL_URL)
    console.log("  Mail:          the outbox table, GET /api/admin/outbox (admin token)");
  console.log(`  Cron:          ${vars.PUBLIC_URL}/__scheduled?cron=*+*+*+*+*  runs one now`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const close of closers) await close().catch(() => {});
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error) => {
    if (error instanceof ConfigError) console.error(`Error: ${error.message}`);
    else console.error(error);
    process.exit(1);
  });
}
