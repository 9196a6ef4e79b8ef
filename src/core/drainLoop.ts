import type { Ctx } from "./context.ts";
import type { Logger } from "./ports.ts";

/**
 * The Node runtime's background senders (receipts, update mails, outgoing webhooks) share this
 * loop: woken at start and after each commit that queued work, it drains what is due, one drain
 * at a time in this process; a wake during a drain makes it look once more when done. Other
 * processes run their own loops; the queues' leases keep them apart.
 */
export interface DrainLoop {
  start(ctx: Ctx): void;
  wake(): void;
  /** Resolves once no drain is under way (nor asked for again). */
  idle(): Promise<void>;
  /** Waits for the drain under way, and starts no other. */
  stop(): Promise<void>;
}

export function drainLoop(opts: {
  log: Logger;
  /** What the log says when a drain fails (the work stays queued). */
  failure: string;
  /** One drain: batches until nothing is due, giving up between them once `stopped()`. */
  drain: (ctx: Ctx, stopped: () => boolean) => Promise<void>;
  /** How long after a wake the drain starts (0: after the current task). */
  delayMs?: number;
  /** Called by stop() before it waits: cut a pause short, clear a timer. */
  onStop?: () => void;
}): DrainLoop {
  let ctx: Ctx | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const isStopped = () => stopped;

  const drain = async (c: Ctx) => {
    do {
      again = false;
      try {
        await opts.drain(c, isStopped);
      } catch (error) {
        opts.log.error(opts.failure, { error: String(error) });
      }
    } while (again && !stopped);
  };

  const loop: DrainLoop = {
    start(c) {
      ctx = c;
      // What an earlier process left queued and nobody holds goes out now.
      loop.wake();
    },
    wake() {
      if (!ctx || stopped) return;
      if (running) {
        again = true;
        return;
      }
      const c = ctx;
      running = new Promise<void>((resolve) => setTimeout(resolve, opts.delayMs ?? 0))
        .then(() => drain(c))
        .finally(() => {
          running = null;
          // Woken after the drain's last look but before it was done: look again.
          if (again) loop.wake();
        });
    },
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      opts.onStop?.();
      await running;
    },
  };
  return loop;
}
