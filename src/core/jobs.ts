import { type Ctx, db } from "./context.ts";

/**
 * A periodic job that several processes on one database may all try to run (decision 0012): the
 * pass runs in the one process whose claim on the job's row succeeds, at most once per `everyMs`
 * across all of them, and never two at a time while its holder is alive.
 */
export interface JobSchedule {
  name: string;
  /** Time between the starts of two passes, whichever processes run them. */
  everyMs: number;
  /**
   * How long a holder that stopped answering keeps the job: the lease is renewed every third of
   * it while the pass runs, and taken over by another process once it lapses (the holder died).
   */
  leaseMs: number;
}

export type JobOutcome<T> = { ran: true; result: T } | { ran: false };

/**
 * Claims the job's row with one statement (insert, or update only when the lease has lapsed and
 * the next run is due): on Postgres two claims on the row queue on its lock and the second sees
 * the first's update, on SQLite writes are serial, so exactly one claim per due pass succeeds.
 */
export async function claimJob(ctx: Ctx, job: JobSchedule, holder: string): Promise<boolean> {
  const now = ctx.clock.now();
  const claimed = await db(ctx)
    .insertInto("job_leases")
    .values({
      name: job.name,
      holder,
      locked_until: now + job.leaseMs,
      next_run_at: now + job.everyMs,
      runs: 1,
    })
    .onConflict((oc) =>
      oc
        .column("name")
        .doUpdateSet((eb) => ({
          holder: eb.ref("excluded.holder"),
          locked_until: eb.ref("excluded.locked_until"),
          next_run_at: eb.ref("excluded.next_run_at"),
          runs: eb("job_leases.runs", "+", 1),
        }))
        .where("job_leases.locked_until", "<=", now)
        .where("job_leases.next_run_at", "<=", now),
    )
    .returning("holder")
    .executeTakeFirst();
  return claimed?.holder === holder;
}

/** Keeps the lease while the pass runs; false when another process has taken the job over. */
async function renewJob(ctx: Ctx, job: JobSchedule, holder: string): Promise<boolean> {
  const result = await db(ctx)
    .updateTable("job_leases")
    .set({ locked_until: ctx.clock.now() + job.leaseMs })
    .where("name", "=", job.name)
    .where("holder", "=", holder)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives the lease back (the next pass still waits for next_run_at). */
async function releaseJob(ctx: Ctx, job: JobSchedule, holder: string): Promise<void> {
  await db(ctx)
    .updateTable("job_leases")
    .set({ locked_until: ctx.clock.now() })
    .where("name", "=", job.name)
    .where("holder", "=", holder)
    .execute();
}

/**
 * Runs one pass of the job if this process wins the claim: logs "job started" and "job finished"
 * (with the holder, so a log shows which process ran which pass), renews the lease while the pass
 * runs, and gives it back at the end, also when the pass fails (the failure is rethrown).
 */
export async function runJobOnce<T>(
  ctx: Ctx,
  job: JobSchedule,
  holder: string,
  pass: () => Promise<T>,
): Promise<JobOutcome<T>> {
  if (!(await claimJob(ctx, job, holder))) return { ran: false };
  const started = ctx.clock.now();
  ctx.log.info("job started", { job: job.name, holder });
  const renewal = setInterval(
    () =>
      void renewJob(ctx, job, holder).then(
        (held) => {
          if (!held) ctx.log.warn("job lease lost", { job: job.name, holder });
        },
        (error) =>
          ctx.log.warn("job lease renewal failed", { job: job.name, error: String(error) }),
      ),
    Math.max(1, Math.floor(job.leaseMs / 3)),
  );
  renewal.unref?.();
  try {
    const result = await pass();
    return { ran: true, result };
  } finally {
    clearInterval(renewal);
    // Logged before the lease is given back, so in the logs of all processes together every
    // "job started" of a job follows the previous pass's "job finished".
    ctx.log.info("job finished", { job: job.name, holder, ms: ctx.clock.now() - started });
    await releaseJob(ctx, job, holder).catch((error) =>
      ctx.log.warn("job lease release failed", { job: job.name, error: String(error) }),
    );
  }
}
