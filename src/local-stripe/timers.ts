import type { Engine } from "./engine.ts";
import { settle } from "./flows/payments.ts";
import { sweepExpired } from "./flows/sessions.ts";

const SWEEP_EVERY_MS = 30_000;
/** setTimeout's ceiling; a later due time is simply re-armed when this fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * What happens with time: bank transfers settle when due (their due times are in the state, so a
 * restart resumes them), and open sessions past `expires_at` expire.
 */
export class Timers {
  private settleTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly engine: Engine) {}

  start(): void {
    this.sweep();
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweepTimer.unref();
    this.reschedule();
  }

  /** Arms one timer for the earliest pending settlement. */
  reschedule(): void {
    if (!this.sweepTimer) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    const next = Math.min(...this.engine.state.settlements.map((s) => s.dueAt));
    if (!Number.isFinite(next)) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, next - Date.now()));
    this.settleTimer = setTimeout(() => this.settleDue(), delay);
  }

  close(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.settleTimer = null;
    this.sweepTimer = null;
  }

  private settleDue(): void {
    this.settleTimer = null;
    const now = Date.now();
    const due = this.engine.state.settlements.filter((s) => s.dueAt <= now);
    for (const settlement of due) {
      try {
        this.engine.mutate(() => settle(this.engine, settlement.sessionId, settlement.outcome));
      } catch (error) {
        this.engine.state.settlements = this.engine.state.settlements.filter(
          (s) => s !== settlement,
        );
        this.engine.log.error("bank transfer settlement failed", {
          session: settlement.sessionId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    this.reschedule();
  }

  private sweep(): void {
    try {
      if (sweepExpired(this.engine) > 0) this.engine.commit();
    } catch (error) {
      this.engine.log.error("expiring sessions failed", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
