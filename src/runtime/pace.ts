import { performance } from "node:perf_hooks";

/** Busy: the event loop ran more than this share of the time since the last look. */
const BUSY = 0.5;
/** While busy, a job waits this many times as long as its last piece took: it gets a third. */
const PAUSE_PER_WORK = 2;

/**
 * A background job's pause between two pieces of work, on Node: while the event loop is busy
 * (requests being answered), it waits twice as long as the last piece took, so the job gets
 * about a third of the time and the answers the rest; when the loop is not busy, it does not wait.
 * A burst of webhooks is answered first and its receipts follow within seconds (decision 0011).
 */
export function yieldWhileBusy(): (workMs: number) => Promise<void> {
  let since = performance.eventLoopUtilization();
  return async (workMs) => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, since).utilization > BUSY;
    since = now;
    if (busy) await new Promise((resume) => setTimeout(resume, PAUSE_PER_WORK * workMs));
  };
}
