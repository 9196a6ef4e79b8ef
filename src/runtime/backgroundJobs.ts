import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Config } from "../config.ts";
import type { Ctx } from "../core/context.ts";
import { type JobSchedule, runJobOnce } from "../core/jobs.ts";
import { sweepExpired } from "../core/maintenance.ts";
import { alertBouncedReceipts } from "../core/orders/bounceAlerts.ts";
import { sendPaymentFailedMails } from "../core/orders/pastDue.ts";
import { resendUndeliveredReceipts } from "../core/orders/receipts.ts";
import { reconcile } from "../core/orders/reconcile.ts";
import { watchDeliveries } from "../core/orders/watchdog.ts";
import { sendDueNotices } from "../core/releases/sendNotices.ts";
import { stampQueued } from "../core/stamping/stamps.ts";

/** Reconcile looks back at least this far, as the Worker's Cron Trigger does. */
const RECONCILE_WINDOW_MS = 6 * 3600_000;
/** The delivery watchdog's longest interval, whichever process runs it. */
const WATCHDOG_MS = 60_000;
/** A process ticks at least this often, so a due pass starts soon whichever process is alive. */
const MAX_TICK_MS = 30_000;

interface Job {
  schedule: JobSchedule;
  pass: (ctx: Ctx) => Promise<unknown>;
}

/**
 * The lease outlives a stalled event loop on a busy machine (10 s at least) and is taken over
 * within two minutes of a holder's death, and never later than the job's own interval.
 */
const leaseFor = (everyMs: number) => Math.max(10_000, Math.min(everyMs, 120_000));

/**
 * `serve`'s periodic work (decision 0012). Every process of the shop ticks; each pass of sweep
 * (expired records, stale checkouts) and reconcile (events a webhook did not bring) runs in the
 * one process that claims it in job_leases, one interval apart. Receipts are the receipt queue's
 * (its rows are claimed one by one), so every process drains it on each tick.
 */
export function startBackgroundJobs(runtimeCtx: Ctx, config: Config): { stop(): Promise<void> } {
  // What a pass changes, the access history says the system did (a Stripe event's, the event).
  const ctx: Ctx = { ...runtimeCtx, cause: "system" };
  const holder = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const { housekeepingMs, reconcileMs } = config.jobs;
  const watchdogMs = Math.min(housekeepingMs, WATCHDOG_MS);
  const jobs: Job[] = [
    {
      schedule: { name: "sweep", everyMs: housekeepingMs, leaseMs: leaseFor(housekeepingMs) },
      pass: (ctx) => sweepExpired({ ctx }),
    },
    {
      // Stuck receipts and download reminders (decision 0023): every minute (or sooner with a
      // shorter housekeeping interval), so the seller hears of a receipt soon after its 10 minutes.
      schedule: { name: "watchdog", everyMs: watchdogMs, leaseMs: leaseFor(watchdogMs) },
      pass: (ctx) => watchDeliveries({ ctx }),
    },
    {
      // Bounced receipts, each alerted to the seller once (decision 0024).
      schedule: { name: "bounce-alerts", everyMs: WATCHDOG_MS, leaseMs: leaseFor(WATCHDOG_MS) },
      pass: (ctx) => alertBouncedReceipts({ ctx }),
    },
    {
      schedule: { name: "reconcile", everyMs: reconcileMs, leaseMs: leaseFor(reconcileMs) },
      pass: async (ctx) => {
        const window = Math.max(RECONCILE_WINDOW_MS, 3 * reconcileMs);
        const report = await reconcile({ ctx, input: { sinceMs: ctx.clock.now() - window } });
        if (report.failed.length) throw new Error(`${report.failed.length} event(s) failed`);
      },
    },
  ];
  const running = new Map<string, Promise<unknown>>();
  const tick = (name: string, work: () => Promise<unknown>) => {
    // This process's own previous pass still runs: the lease would refuse anyway, so ask nobody.
    if (running.has(name)) return;
    const done = work()
      .catch((error) => ctx.log.error("background job failed", { job: name, error: String(error) }))
      .finally(() => running.delete(name));
    running.set(name, done);
  };
  const timers = jobs.map((job) =>
    setInterval(
      () =>
        tick(job.schedule.name, () => runJobOnce(ctx, job.schedule, holder, () => job.pass(ctx))),
      Math.min(job.schedule.everyMs, MAX_TICK_MS),
    ),
  );
  timers.push(
    setInterval(() => tick("receipts", () => resendUndeliveredReceipts({ ctx })), housekeepingMs),
    // Payment-failed mails whose first try failed or whose sender died (decision 0020).
    setInterval(
      () => tick("payment-failed", () => sendPaymentFailedMails({ ctx })),
      housekeepingMs,
    ),
    // Stamped PDFs due again after a failed try, or left by a stamper that died (decision 0026).
    setInterval(
      () =>
        tick("stamps", async () =>
          ctx.stampSender ? ctx.stampSender.wake() : stampQueued({ ctx }),
        ),
      WATCHDOG_MS,
    ),
    // Update mails left by a sender that died (its lease over) or waiting after a failed try:
    // the background sender takes them at its rate (decision 0018).
    setInterval(
      () =>
        tick("notices", async () =>
          ctx.noticeSender ? ctx.noticeSender.wake() : sendDueNotices({ ctx }),
        ),
      housekeepingMs,
    ),
  );
  for (const timer of timers) timer.unref();
  return {
    /** No new pass starts; passes under way finish, so their leases are given back. */
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}
