import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { consoleLogger } from "../adapters/log-console/index.ts";
import { Engine } from "./engine.ts";
import { StripeApiError } from "./errors.ts";
import { apiRoutes } from "./http/api.ts";
import { checkoutRoutes } from "./http/checkout.tsx";
import { receiptRoutes } from "./http/receipts.tsx";
import { triggerRoutes } from "./http/triggers.ts";
import { Timers } from "./timers.ts";
import { WebhookDeliverer } from "./webhooks.ts";

export { signatureHeader } from "./webhooks.ts";

type LogFn = (message: string, fields?: Record<string, unknown>) => void;

export interface LocalStripeOptions {
  /** 0 = any free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** JSON file the state survives restarts in (written atomically); null = memory only. */
  stateFile: string | null;
  /** Where events are POSTed, e.g. http://127.0.0.1:8787/webhooks/stripe. */
  webhookUrl: string;
  /** whsec_... */
  webhookSecret: string;
  /** How long a bank transfer takes to settle; default 3000. */
  asyncDelayMs?: number;
  /** Webhook retries: default 1000 ms doubling up to 60000 ms, 20 attempts in all. */
  retry?: { baseMs: number; maxMs: number; maxAttempts?: number };
  log?: { info: LogFn; warn: LogFn; error: LogFn };
}

export interface LocalStripe {
  /** The whole server: `/v1` API, `/checkout/:id` pages, `/_local` triggers. */
  app: Hono;
  /** Starts webhook delivery and timers (resuming what the state file had pending). */
  start(): void;
  close(): Promise<void>;
}

/**
 * The local Stripe (DESIGN section 8) without a listener: serve `app.fetch` yourself and call
 * `start()`. Checkout `url`s use the origin of the request that created the session.
 */
export function createLocalStripe(opts: Omit<LocalStripeOptions, "port" | "host">): LocalStripe {
  const log = opts.log ?? consoleLogger();
  const engine = new Engine(opts.stateFile, log, opts.asyncDelayMs ?? 3000);
  const deliverer = new WebhookDeliverer(engine, {
    url: opts.webhookUrl,
    secret: opts.webhookSecret,
    retry: { baseMs: 1000, maxMs: 60_000, maxAttempts: 20, ...opts.retry },
    log,
  });
  const timers = new Timers(engine);
  engine.onChange = () => {
    deliverer.kick();
    timers.reschedule();
  };

  const app = new Hono();
  app.use(async (c, next) => {
    engine.origin = new URL(c.req.url).origin;
    await next();
  });
  app.route("/v1", apiRoutes(engine));
  app.route("/checkout", checkoutRoutes(engine));
  app.route("/_local", triggerRoutes(engine));
  app.route("/", receiptRoutes(engine));
  app.get("/", (c) =>
    c.text(
      [
        "Local Stripe for Tollgate: a stand-in for Stripe's API while the shop runs offline.",
        "",
        "  /v1/...          the Stripe API subset Tollgate uses (any sk_test_ key)",
        "  /checkout/:id    hosted checkout pages (test card 4242 4242 4242 4242)",
        "  /receipts/payment/:charge, /invoices/:id[/pdf]   receipt, hosted invoice and PDF",
        "  /_local/status   pending webhook deliveries",
        "",
        "Trigger refunds, disputes, renewals and cancellations with `tollgate local-stripe --help`.",
      ].join("\n"),
    ),
  );
  app.notFound((c) => c.json(new StripeApiError(404, `Nothing at ${c.req.path}.`).body, 404));
  app.onError((error, c) => {
    if (error instanceof StripeApiError)
      return c.json(error.body, error.status as 400 | 401 | 402 | 404 | 415);
    log.error("local Stripe: request failed", {
      path: c.req.path,
      error: error.stack ?? error.message,
    });
    return c.json(
      { error: { type: "api_error", message: `The local Stripe failed: ${error.message}` } },
      500,
    );
  });

  return {
    app,
    start() {
      timers.start();
      deliverer.resume();
    },
    async close() {
      timers.close();
      await deliverer.close();
    },
  };
}

/** Listens with `@hono/node-server` and starts delivering; `url` is e.g. http://127.0.0.1:12111. */
export async function startLocalStripe(
  opts: LocalStripeOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const local = createLocalStripe(opts);
  const host = opts.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const listening = serve({ fetch: local.app.fetch, port: opts.port, hostname: host }, () =>
      resolve(listening),
    );
    listening.once("error", (error: NodeJS.ErrnoException) => {
      // Keeps its code, so `tollgate serve` can say which of its two ports is taken.
      if (error.code === "EADDRINUSE")
        error.message = `port ${opts.port} on ${host} is already in use: is another local Stripe running? Stop it, or choose another port with --port.`;
      reject(error);
    });
  });
  const { port } = server.address() as AddressInfo;
  const clientHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  local.start();
  return {
    url: `http://${clientHost.includes(":") ? `[${clientHost}]` : clientHost}:${port}`,
    async close() {
      await local.close();
      await new Promise<void>((done) => {
        server.close(() => done());
        // Keep-alive sockets from SDK clients would hold close() open; a short grace, then go.
        const force = setTimeout(
          () => (server as { closeAllConnections?: () => void }).closeAllConnections?.(),
          1000,
        );
        force.unref();
      });
    },
  };
}
