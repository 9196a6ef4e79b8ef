import { serve } from "@hono/node-server";
import type { Config } from "../config.ts";
import { startBackgroundJobs } from "./backgroundJobs.ts";
import { isLoopbackAddress } from "./clientAddress.ts";
import { DEMO_SELLER, seedDemo } from "./demo.ts";
import { buildNodeRuntime, localStripeUrl } from "./node.ts";

/** `tollgate serve`: migrate, optionally seed the demo, listen, and stop cleanly on a signal. */
export async function startServer(config: Config, opts: { demo?: boolean; host?: string } = {}) {
  // The offline demo gets a seller to sign in as; its sign-in mail is readable at /dev/outbox.
  const demoSeller = opts.demo && config.adminEmails.length === 0 && config.mail.kind === "outbox";
  if (demoSeller) config = { ...config, adminEmails: [DEMO_SELLER] };
  const runtime = await buildNodeRuntime(config, {
    localStripe: {
      port: config.port + 1,
      webhookUrl: `http://127.0.0.1:${config.port}/webhooks/stripe`,
    },
  });
  const { log } = runtime.deps;
  if (opts.demo && (await seedDemo(runtime.systemCtx)))
    log.info("demo product created", { slug: "starter-kit" });
  const host = opts.host ?? config.host;
  const server = serve({ fetch: runtime.app.fetch, port: config.port, hostname: host }, (info) => {
    const lines = [
      "",
      `  Tollgate is running: ${config.publicUrl}  (listening on ${displayHost(host)}:${info.port})`,
      `  Store ${config.publicUrl}/   Library ${config.publicUrl}/library`,
    ];
    if (!config.stripe.secretKey) {
      lines.push(
        `  Payments go to the local Stripe (test card 4242 4242 4242 4242): ${localStripeUrl(config)}`,
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
  });
  // Housekeeping (Workers: the Cron Trigger): expired records deleted, unpaid checkouts
  // abandoned, missed Stripe events reconciled, unsent receipts sent. Each pass runs in one of
  // the shop's processes, however many share the database (backgroundJobs.ts, decision 0012).
  const jobs = startBackgroundJobs(runtime.systemCtx, config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
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
