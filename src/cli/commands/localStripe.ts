import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { consoleLogger } from "../../adapters/log-console/index.ts";
import { type Config, parseConfig } from "../../config.ts";
import { startLocalStripe } from "../../local-stripe/index.ts";
import { localStripeUrl } from "../../runtime/node.ts";
import { loadOrCreateSecrets } from "../../runtime/secrets.ts";

const DEFAULT_PORT = 12111;
const DEFAULT_API_URL = `http://127.0.0.1:${DEFAULT_PORT}`;

const int = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number");
  return Number(value);
};

/** `tollgate local-stripe`: serve the local Stripe, or trigger what happens on Stripe's side. */
export function localStripeCommand(): Command {
  const command = new Command("local-stripe")
    .description(
      "run the local Stripe (the Stripe API subset Tollgate uses, a hosted test checkout and signed webhooks), or trigger refunds, disputes, renewals and cancellations in a running one",
    )
    .option("--port <port>", "port to listen on", int, DEFAULT_PORT)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--webhook-url <url>", "where events are POSTed (default: PUBLIC_URL/webhooks/stripe)")
    .option(
      "--state-file <file>",
      "where objects, events and pending deliveries are kept (default: local-stripe.json in the database's folder)",
    )
    .option("--async-delay <ms>", "how long a bank transfer takes to settle", int, 3000)
    .showHelpAfterError()
    .action(guard(serve));

  const trigger = (usage: string, description: string) =>
    command
      .command(usage)
      .description(description)
      .option(
        "--api-url <url>",
        `the running local Stripe (default: STRIPE_API_URL, else ${DEFAULT_API_URL}, else the one \`tollgate serve\` runs beside the shop)`,
      );

  trigger("refund <id>", "refund a payment: a Checkout Session, payment intent or charge id")
    .option("--amount <minor>", "refund only this much, in minor units (default: all of it)", int)
    .action(
      guard((id: string, opts: { apiUrl?: string; amount?: number }) =>
        call(opts.apiUrl, "/_local/refunds", { id, amount: opts.amount }),
      ),
    );
  trigger(
    "dispute <id>",
    "open a dispute (chargeback) on a Checkout Session or payment intent",
  ).action(
    guard((id: string, opts: { apiUrl?: string }) => call(opts.apiUrl, "/_local/disputes", { id })),
  );
  trigger("close-dispute <dispute>", "close a dispute as won or lost")
    .addOption(
      new Option("--outcome <outcome>", "how the dispute ends")
        .choices(["won", "lost"])
        .makeOptionMandatory(),
    )
    .action(
      guard((dispute: string, opts: { apiUrl?: string; outcome: string }) =>
        call(opts.apiUrl, `/_local/disputes/${encodeURIComponent(dispute)}/close`, {
          outcome: opts.outcome,
        }),
      ),
    );
  trigger(
    "renew <id>",
    "roll a subscription (or a subscription Checkout Session) over to its next paid period",
  ).action(
    guard((id: string, opts: { apiUrl?: string }) =>
      call(opts.apiUrl, `/_local/subscriptions/${encodeURIComponent(id)}/renew`, {}),
    ),
  );
  trigger("cancel <id>", "cancel a subscription (or a subscription Checkout Session) now")
    .option("--at-period-end", "cancel when the paid period ends instead")
    .action(
      guard((id: string, opts: { apiUrl?: string; atPeriodEnd?: boolean }) =>
        call(opts.apiUrl, `/_local/subscriptions/${encodeURIComponent(id)}/cancel`, {
          at_period_end: Boolean(opts.atPeriodEnd),
        }),
      ),
    );
  trigger("expire <session>", "expire an open Checkout Session").action(
    guard((session: string, opts: { apiUrl?: string }) =>
      call(opts.apiUrl, `/_local/sessions/${encodeURIComponent(session)}/expire`, {}),
    ),
  );
  return command;
}

/** Prints `Error: <message>` and exits 1 instead of a stack trace. */
function guard<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = error instanceof ConfigProblem ? 2 : 1;
    }
  };
}

class ConfigProblem extends Error {}

function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (error) {
    throw new ConfigProblem(error instanceof Error ? error.message : String(error));
  }
}

async function serve(opts: {
  port: number;
  host: string;
  webhookUrl?: string;
  stateFile?: string;
  asyncDelay: number;
}) {
  const config = loadConfig();
  const dir = dataDir(config);
  if (dir) mkdirSync(dir, { recursive: true });
  const webhookSecret =
    config.stripe.webhookSecret ?? (dir ? loadOrCreateSecrets(dir).localStripeWebhookSecret : null);
  if (!webhookSecret)
    throw new ConfigProblem(
      "Set STRIPE_WEBHOOK_SECRET (whsec_...): there is no data folder to keep one in.",
    );
  const webhookUrl = opts.webhookUrl ?? `${config.publicUrl}/webhooks/stripe`;
  const stateFile = opts.stateFile
    ? resolve(opts.stateFile)
    : join(dir ?? resolve("data"), "local-stripe.json");
  const log = consoleLogger();
  const local = await startLocalStripe({
    port: opts.port,
    host: opts.host,
    stateFile,
    webhookUrl,
    webhookSecret,
    asyncDelayMs: opts.asyncDelay,
    log,
  });
  console.log(
    [
      "",
      `  Local Stripe is running: ${local.url}`,
      `  Point Tollgate at it: STRIPE_API_URL=${local.url} (no STRIPE_SECRET_KEY needed)`,
      `  Webhooks go to ${webhookUrl}, signed with ${config.stripe.webhookSecret ? "STRIPE_WEBHOOK_SECRET" : `localStripeWebhookSecret in ${join(dir ?? "", "secrets.json")}`}`,
      `  State is kept in ${stateFile}`,
      "  Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined",
      "",
    ].join("\n"),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("local Stripe shutting down", { signal });
    void local.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

/** The SQLite file's folder, where the embedded shape keeps its generated secrets. */
function dataDir(config: Config): string | null {
  if (config.database.dialect !== "sqlite") return null;
  const filename = config.database.url.slice("sqlite:".length);
  return filename === ":memory:" ? null : dirname(resolve(filename));
}

/** Where to find a running local Stripe, in the order they are tried. */
function apiUrls(given: string | undefined): string[] {
  const chosen = given ?? process.env.STRIPE_API_URL?.trim();
  if (chosen) return [chosen.replace(/\/+$/, "")];
  const urls = [DEFAULT_API_URL];
  try {
    urls.push(localStripeUrl(parseConfig(process.env)));
  } catch {}
  return [...new Set(urls)];
}

/** POSTs one trigger and prints the one line it answers with. */
async function call(apiUrl: string | undefined, path: string, body: Record<string, unknown>) {
  const urls = apiUrls(apiUrl);
  for (const url of urls) {
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch {
      continue;
    }
    const answer = (await response.json().catch(() => null)) as {
      message?: string;
      error?: { message?: string };
    } | null;
    if (!response.ok)
      throw new Error(
        answer?.error?.message ?? `the local Stripe at ${url} answered ${response.status}`,
      );
    console.log(answer?.message ?? "Done.");
    return;
  }
  throw new Error(
    `cannot reach a local Stripe at ${urls.join(" or ")}. Start one with \`tollgate local-stripe\` (or \`npm start\`), or pass --api-url.`,
  );
}
