import { createHmac } from "node:crypto";
import type Stripe from "stripe";
import type { Logger } from "../core/ports.ts";
import type { Engine } from "./engine.ts";
import type { Delivery } from "./state.ts";

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

const ATTEMPT_TIMEOUT_MS = 10_000;

/** The `Stripe-Signature` header Stripe sends: `t=<seconds>,v1=<HMAC-SHA256 of "t.payload">`. */
export function signatureHeader(payload: string, secret: string, timestamp: number): string {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${payload}`).digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

/**
 * Delivers events to one endpoint like Stripe does: signed, one POST per event, retried with
 * exponential backoff on a non-2xx answer or a connection error. The queue lives in the state,
 * so deliveries outlast a restart. Events go out oldest first, one at a time; an event that keeps
 * failing backs off on its own while the later ones are delivered (Stripe does not promise order).
 */
export class WebhookDeliverer {
  private running: Promise<void> | null = null;
  private started = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private inFlight: AbortController | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly opts: { url: string; secret: string; retry: RetryPolicy; log: Logger },
  ) {}

  /** Resumes a queue loaded from the state file: whatever was waiting is tried at once. */
  resume(): void {
    this.started = true;
    const now = Date.now();
    for (const delivery of this.engine.state.deliveries)
      delivery.nextAttemptAt = Math.min(delivery.nextAttemptAt, now);
    if (this.engine.state.deliveries.length)
      this.opts.log.info("resuming webhook deliveries", {
        pending: this.engine.state.deliveries.length,
      });
    this.kick();
  }

  /** Starts delivering if idle, or re-reads the queue if waiting. */
  kick(): void {
    if (!this.started || this.closed) return;
    if (this.running) {
      this.wake?.();
      return;
    }
    let failed = false;
    this.running = this.run()
      .catch((error: unknown) => {
        failed = true;
        this.opts.log.error("webhook delivery stopped; it resumes with the next event", {
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        this.running = null;
        // An event queued between the loop's last look and this line would otherwise wait.
        if (!failed && this.engine.state.deliveries.length) this.kick();
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.inFlight?.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const { deliveries } = this.engine.state;
      if (!deliveries.length) return;
      // Oldest due event first; one that keeps failing waits on its own backoff, not the others.
      const now = Date.now();
      const due = deliveries.find((d) => d.nextAttemptAt <= now);
      if (due) await this.attempt(due);
      else await this.sleep(Math.min(...deliveries.map((d) => d.nextAttemptAt)) - now);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        done();
      }
      this.wake = () => {
        this.wake = null;
        finish();
      };
    });
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { log, retry } = this.opts;
    const event = this.engine.state.events.find((e) => e.id === delivery.eventId);
    if (!event) {
      this.finish(delivery);
      return;
    }
    const attempt = delivery.attempts + 1;
    const started = Date.now();
    const result = await this.post(event);
    // An attempt cut short by close() is not counted: it is made again after the restart.
    if (this.closed) return;
    const fields = {
      event: event.id,
      type: event.type,
      attempt,
      ...("status" in result ? { status: result.status } : { error: result.error }),
      ms: Date.now() - started,
    };
    if ("status" in result && result.status >= 200 && result.status < 300) {
      event.pending_webhooks = 0;
      this.finish(delivery);
      log.info("webhook delivered", fields);
    } else if (attempt >= retry.maxAttempts) {
      this.finish(delivery);
      log.error("webhook failed, giving up (the event stays listable)", fields);
    } else {
      delivery.attempts = attempt;
      const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** (attempt - 1));
      delivery.nextAttemptAt = Date.now() + delay;
      this.engine.commit();
      log.warn("webhook failed, will retry", { ...fields, retryInMs: delay });
    }
  }

  private finish(delivery: Delivery) {
    const queue = this.engine.state.deliveries;
    const index = queue.indexOf(delivery);
    if (index >= 0) queue.splice(index, 1);
    this.engine.commit();
  }

  private async post(event: Stripe.EventBase): Promise<{ status: number } | { error: string }> {
    // Stripe sends pretty-printed JSON and signs each attempt afresh.
    const payload = JSON.stringify(event, null, 2);
    const timestamp = Math.floor(Date.now() / 1000);
    this.inFlight = new AbortController();
    try {
      const response = await fetch(this.opts.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "Stripe-Signature": signatureHeader(payload, this.opts.secret, timestamp),
          "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "Cache-Control": "no-cache",
          Accept: "*/*; q=0.5, application/xml",
        },
        body: payload,
        signal: AbortSignal.any([this.inFlight.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      return { status: response.status };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { error: cause ?? (error instanceof Error ? error.message : String(error)) };
    } finally {
      this.inFlight = null;
    }
  }
}
