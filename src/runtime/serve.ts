import { serve } from "@hono/node-server";
import type { Config } from "../config.ts";
import { sweepExpired } from "../core/maintenance.ts";
import { resendUndeliveredReceipts } from "../core/orders/receipts.ts";
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
  // Housekeeping every 10 minutes (Workers: the Cron Trigger): receipts that never went out
  // (a crash between a payment's commit and its mail, a mail outage) are sent again, and
  // expired sessions, sign-in links and old download links are deleted.
  const sweep = setInterval(() => {
    const ctx = runtime.systemCtx;
    resendUndeliveredReceipts({ ctx })
      .then(() => sweepExpired({ ctx }))
      .catch((error) => log.error("housekeeping failed", { error: String(error) }));
  }, 600_000);
  sweep.unref();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(sweep);
    log.info("shutting down", { signal });
    server.close(() => void runtime.close().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return { server, runtime };
}

const isLoopbackHost = (host: string) => host === "localhost" || isLoopbackAddress(host);
const displayHost = (host: string) => (host.includes(":") ? `[${host}]` : host);
