import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Config } from "../config.ts";
import { startBackgroundJobs } from "./backgroundJobs.ts";
import { isLoopbackAddress } from "./clientAddress.ts";
import { DEMO_SELLER, seedDemo } from "./demo.ts";
import {
  findListening,
  isAddressInUse,
  type Listening,
  PortTaken,
  recordListening,
} from "./listening.ts";
import { buildNodeRuntime } from "./node.ts";
import { dataDir } from "./secrets.ts";

/** `tollgate serve`: migrate, optionally seed the demo, listen, and stop cleanly on a signal. */
export async function startServer(config: Config, opts: { demo?: boolean; host?: string } = {}) {
  // The offline demo gets a seller to sign in as; its sign-in mail is readable at /dev/outbox.
  const demoSeller = opts.demo && config.adminEmails.length === 0 && config.mail.kind === "outbox";
  if (demoSeller) config = { ...config, adminEmails: [DEMO_SELLER] };
  const dir = dataDir(config);
  const runtime = await buildNodeRuntime(config, {
    localStripe: {
      port: config.port + 1,
      webhookUrl: `http://127.0.0.1:${config.port}/webhooks/stripe`,
    },
  }).catch((error: unknown) => {
    throw isAddressInUse(error) ? portTaken(config.port + 1, "localStripe", dir) : error;
  });
  const { log } = runtime.deps;
  if (opts.demo && (await seedDemo(runtime.systemCtx)))
    log.info("demo product created", { slug: "starter-kit" });
  const host = opts.host ?? config.host;
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const listening = serve({ fetch: runtime.app.fetch, port: config.port, hostname: host }, () =>
      resolve(listening),
    );
    listening.once("error", reject);
  }).catch(async (error: unknown) => {
    await runtime.close();
    throw isAddressInUse(error) ? portTaken(config.port, "shop", dir) : error;
  });
  const { port } = server.address() as AddressInfo;
  const lines = [
    "",
    `  Tollgate is running: ${config.publicUrl}  (listening on ${displayHost(host)}:${port})`,
    `  Store ${config.publicUrl}/   Library ${config.publicUrl}/library`,
  ];
  if (!config.stripe.secretKey) {
    lines.push(
      `  Payments go to the local Stripe (test card 4242 4242 4242 4242): ${runtime.localStripeUrl}${config.stripe.apiUrl ? "" : "  (PORT+1)"}`,
    );
  }
  if (runtime.deps.devOutbox)
    lines.push(
      `  Mail goes to the outbox: ${config.publicUrl}/dev/outbox  (readable from this machine only)`,
    );
  if (demoSeller)
    lines.push(`  Seller pages: ${config.publicUrl}/admin  (sign in as ${DEMO_SELLER})`);
  if (!isLoopbackHost(host))
    lines.push(
      `  Listening beyond this machine (${host}): anyone on the network can reach the shop.`,
    );
  if (runtime.deps.adminToken && !config.adminToken) {
    lines.push(`  Admin token (from data/secrets.json): ${runtime.deps.adminToken}`);
  }
  lines.push("");
  console.log(lines.join("\n"));
  // `tollgate token`, `local-stripe refund`... in another terminal find the shop through this.
  const forget = dir
    ? recordListening(dir, {
        pid: process.pid,
        publicUrl: config.publicUrl,
        port,
        localStripeUrl: runtime.localStripeUrl,
        startedAt: new Date().toISOString(),
      })
    : () => {};
  // Housekeeping (Workers: the Cron Trigger): expired records deleted, unpaid checkouts
  // abandoned, missed Stripe events reconciled, unsent receipts sent. Each pass runs in one of
  // the shop's processes, however many share the database (backgroundJobs.ts, decision 0012).
  const jobs = startBackgroundJobs(runtime.systemCtx, config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    forget();
    // A pass under way finishes and gives its lease back before the database closes.
    const jobsStopped = jobs.stop();
    server.close(() => void jobsStopped.then(() => runtime.close()).then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return { server, runtime };
}

const isLoopbackHost = (host: string) => host === "localhost" || isLoopbackAddress(host);
const displayHost = (host: string) => (host.includes(":") ? `[${host}]` : host);

/** One line on which port is taken and what to do, instead of Node's stack trace. */
function portTaken(port: number, whose: "shop" | "localStripe", dir: string | null): PortTaken {
  const running: Listening | null = dir ? findListening(dir) : null;
  const shopPort = whose === "shop" ? port : port - 1;
  return new PortTaken(
    [
      whose === "shop"
        ? `Port ${port} (PORT) is already in use, so the shop cannot listen on it.`
        : `Port ${port} is already in use: without STRIPE_SECRET_KEY the local Stripe listens on PORT+1 (${port}).`,
      running?.port === shopPort
        ? `Tollgate is already running from this data folder at ${running.publicUrl} (process ${running.pid}).`
        : "",
      `Stop the program using it, or start on other ports: PORT=${shopPort + 10} npx tollgate serve`,
    ]
      .filter(Boolean)
      .join(" "),
  );
}
