import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { consoleLogger } from "../../adapters/log-console/index.ts";
import { type Config, parseConfig } from "../../config.ts";
import { startLocalStripe } from "../../local-stripe/index.ts";
import { dataDir, loadOrCreateSecrets } from "../../runtime/secrets.ts";
import { locateShop } from "../shop.ts";

class ConfigProblem extends Error {
  override readonly name = "ConfigProblem";
}

function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (error) {
    throw new ConfigProblem(error instanceof Error ? error.message : String(error));
  }
}

export async function localStripeServe(opts: {
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

/**
 * Where to find a running local Stripe, in the order they are tried: the one named, else the one
 * beside the shop (PORT+1, or what a running `tollgate serve` noted), else a standalone one.
 */
function apiUrls(given: string | null, standalone: string): string[] {
  const chosen = given ?? process.env.STRIPE_API_URL?.trim();
  if (chosen) return [chosen.replace(/\/+$/, "")];
  const urls: string[] = [];
  try {
    const { config, running } = locateShop();
    urls.push(running?.localStripeUrl ?? `http://127.0.0.1:${config.port + 1}`);
  } catch {}
  urls.push(standalone);
  return [...new Set(urls)];
}

/** POSTs one trigger and prints the one line it answers with. */
export async function localStripeCall(
  apiUrl: string | null,
  standalone: string,
  path: string,
  body: Record<string, unknown>,
) {
  const urls = apiUrls(apiUrl, standalone);
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
    `cannot reach a local Stripe at ${urls.join(" or ")}. Is \`tollgate serve\` running (its local Stripe listens on PORT+1)? Start it, or \`tollgate local-stripe\`, or pass --api-url.`,
  );
}
