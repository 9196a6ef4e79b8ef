import { Writable } from "node:stream";
import { parseDuration } from "../../core/duration.ts";
import { invalidInput } from "../../core/errors.ts";
import { listOrders } from "../../core/orders/listOrders.ts";
import { reconcile, replayEvent } from "../../core/orders/reconcile.ts";
import { listWebhookEvents } from "../../core/orders/webhookEvents.ts";
import { ordersCsvStream } from "../../http/ordersCsv.ts";
import { formatPrice } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";
import { printTable } from "./products.ts";

export function reconcileCommand(opts: { since: string }) {
  const seconds = parseDuration(opts.since);
  if (seconds === null)
    throw invalidInput(`--since must be a duration like 6h or 3d (got "${opts.since}").`);
  return withRuntime(async ({ systemCtx }) => {
    console.log(
      `Fetching payment events since ${new Date(Date.now() - seconds * 1000).toISOString()}...`,
    );
    const report = await reconcile({
      ctx: systemCtx,
      input: {
        sinceMs: Date.now() - seconds * 1000,
        onEvent: (id, type, result) => console.log(`  ${id}  ${type}  ${result}`),
      },
    });
    console.log(
      `${report.seen} event(s): ${report.applied} applied now, ${report.alreadyHandled} already handled, ${report.failed.length} failed.`,
    );
    if (report.failed.length) process.exitCode = 1;
  });
}

export function ordersCommand(opts: { limit: number; json?: boolean; csv?: boolean }) {
  if (opts.json && opts.csv) throw invalidInput("Give --json or --csv, not both.");
  return withRuntime(async ({ systemCtx }) => {
    if (opts.csv) {
      // The same export as GET /api/admin/orders.csv: every completed order, page by page.
      await ordersCsvStream(systemCtx).pipeTo(Writable.toWeb(process.stdout));
      return;
    }
    const orders = await listOrders({ ctx: systemCtx, input: { limit: opts.limit } });
    if (opts.json) return console.log(JSON.stringify({ orders }, null, 2));
    if (!orders.length) return console.log("No orders yet.");
    // The Stripe ids last, long as they are: `local-stripe refund` takes the PAYMENT or CHECKOUT one.
    printTable(
      ["ORDER", "CREATED", "PRODUCT", "STATUS", "AMOUNT", "EMAIL", "FLAG", "PAYMENT", "CHECKOUT"],
      orders.map((o) => [
        o.id,
        (o.createdAt ?? "").slice(0, 16),
        o.product,
        o.status,
        formatPrice(o.amount, o.currency),
        o.email ?? "",
        o.flag ?? "",
        o.paymentIntentId ?? o.subscriptionId ?? "",
        o.checkoutSessionId ?? "",
      ]),
    );
  });
}

export function eventsCommand(opts: { limit: number }) {
  return withRuntime(async ({ systemCtx }) => {
    const events = await listWebhookEvents({ ctx: systemCtx, input: { limit: opts.limit } });
    if (!events.length) return console.log("No payment events received yet.");
    printTable(
      ["EVENT", "RECEIVED", "TYPE", "STATUS", "NOTE"],
      events.map((e) => [e.id, (e.receivedAt ?? "").slice(0, 19), e.type, e.status, e.error ?? ""]),
    );
  });
}

export function replayCommand(eventId: string) {
  return withRuntime(async ({ systemCtx }) => {
    const result = await replayEvent({ ctx: systemCtx, input: { eventId } });
    console.log(
      `Replayed ${eventId}: ${result.outcome?.status ?? "handled"}${result.outcome?.note ? ` (${result.outcome.note})` : ""}`,
    );
  });
}
