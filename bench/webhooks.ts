/**
 * Webhook ingestion (issue 7, benchmark 2; issue 14): distinct checkout.session.completed events,
 * each for its own paid order, signed like Stripe signs them, posted end to end (verify, record,
 * fulfil, queue the receipt, commit, answer) against a route that only inserts the raw body in one
 * durable transaction. The baseline runs before and after the app; its figure is the mean of the
 * two.
 *
 * The receipt is sent after the answer, from the queue the payment's transaction wrote (decision
 * 0011), so the figure counts the ingestion only: the time from the first event posted to the
 * last one answered. The receipts are mailed meanwhile and after; the run then waits for every
 * receipt to reach the mail API before it checks them (one per event), and reports how long
 * after the last answer the last receipt arrived (receiptsDrainedMs, not part of the ratio).
 */

import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import Stripe from "stripe";
import { silentLogger } from "../src/adapters/log-console/index.ts";
import { createLocalStripe } from "../src/local-stripe/index.ts";
import type { LoadResult } from "./load.ts";
import type { LoadGenerator } from "./processes.ts";
import type { Row } from "./report.ts";
import {
  type Dialect,
  freshDatabase,
  type Options,
  profileFile,
  shopEnv,
  startShop,
  WEBHOOK_SECRET,
} from "./setup.ts";

const CONNECTIONS = 10;
const sdk = new Stripe("sk_test_local");

export async function webhookBenchmarks(
  dialect: Dialect,
  load: LoadGenerator,
  opts: Options,
): Promise<Row[]> {
  // Stripe's side runs here, not in the server: in production it is another machine. It never
  // delivers by itself (not started): the load generator posts the events.
  const stripe = createLocalStripe({
    stateFile: null,
    webhookUrl: "http://127.0.0.1:9/unused",
    webhookSecret: WEBHOOK_SECRET,
    log: silentLogger,
  });
  const stripeServer = serve({ fetch: stripe.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((done) => stripeServer.once("listening", done));
  const stripeUrl = `http://127.0.0.1:${(stripeServer.address() as AddressInfo).port}`;

  // Receipts go to an HTTP mail API, as in the self-hosted shape (the outbox is for development).
  let receipts = 0;
  const mail = serve({
    fetch: () => {
      receipts++;
      return Response.json({ id: `mail_${receipts}` });
    },
    port: 0,
    hostname: "127.0.0.1",
  });
  await new Promise((done) => mail.once("listening", done));

  const database = await freshDatabase(dialect, opts);
  const env = shopEnv(database, { kind: "local" }, opts, {
    STRIPE_API_URL: stripeUrl,
    MAIL_URL: `http://127.0.0.1:${(mail.address() as AddressInfo).port}/emails`,
    MAIL_API_KEY: "bench-mail-key",
    MAIL_FROM: "Bench Shop <shop@bench.test>",
  });
  const { server, shop } = await startShop(`webhooks-${dialect}`, env, opts);
  try {
    await shop.product("kit");
    await shop.upload("kit", "kit.zip", "kit");
    const count = opts.quick ? 50 : 2000;
    const events = await shop.paidCheckouts("kit", count, stripeUrl);
    if (events.length !== count) throw new Error(`expected ${count} events, got ${events.length}`);

    // Signed now: Stripe's signature is only good for five minutes.
    const file = join(opts.dir, `events-${dialect}.jsonl`);
    const lines = events.map((event) => {
      const body = JSON.stringify(event);
      const signature = sdk.webhooks.generateTestHeaderString({
        payload: body,
        secret: WEBHOOK_SECRET,
      });
      return JSON.stringify({ body, signature });
    });
    writeFileSync(file, `${lines.join("\n")}\n`);

    const run = async (path: string) => {
      const result = await load.events({
        url: `${server.url}${path}`,
        file,
        connections: CONNECTIONS,
      });
      if (result.statuses["200"] !== count || result.errors)
        throw new Error(`${path}: ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
      return result;
    };
    const before = await run("/__bench/webhook");
    const app = await server.profiled(profileFile(opts, `webhooks-${dialect}`), () =>
      run("/webhooks/stripe"),
    );
    // The receipts still on their way (queued, sent in the background) arrive before the next
    // baseline run, which then has the machine to itself as in the first.
    const answered = Date.now();
    while (receipts < count && Date.now() - answered < 120_000)
      await new Promise((r) => setTimeout(r, 20));
    const receiptsDrainedMs = Date.now() - answered;
    const after = await run("/__bench/webhook");

    // Every event granted its buyer the product and sent the receipt, once.
    if (receipts !== count) throw new Error(`${receipts} receipts sent for ${count} events`);
    const last = events[count - 1] as Stripe.CheckoutSessionCompletedEvent;
    const sample = last.data.object.customer_details?.email as string;
    const { entitlements } = await shop.expect<{ entitlements: { status: string }[] }>(
      `/api/admin/entitlements?email=${encodeURIComponent(sample)}`,
      200,
    );
    if (entitlements[0]?.status !== "active") throw new Error(`no access granted to ${sample}`);

    const baseline: LoadResult = {
      ...before,
      perSecond: (before.perSecond + after.perSecond) / 2,
      p50Ms: (before.p50Ms + after.p50Ms) / 2,
      p99Ms: (before.p99Ms + after.p99Ms) / 2,
    };
    const figure = (r: LoadResult) => ({
      value: r.perSecond,
      unit: "events/s" as const,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
    });
    return [
      {
        benchmark: "webhook ingestion",
        database: dialect,
        storage: "local",
        app: figure(app),
        baseline: figure(baseline),
        ratio: app.perSecond / baseline.perSecond,
        // Issue 14: half the bare insert's rate on SQLite, 30% on Postgres (a round trip per
        // statement there, against the baseline's three).
        goal: dialect === "sqlite" ? 0.5 : 0.3,
        extra: { events: count, receiptsDrainedMs },
      },
    ];
  } finally {
    await server.stop();
    await database.drop();
    await stripe.close();
    await new Promise((done) => stripeServer.close(done));
    await new Promise((done) => mail.close(done));
  }
}
