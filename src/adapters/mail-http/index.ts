import { MailFailure, type MailMessage, type MailTransport } from "../../core/ports.ts";
import { providerMessage, retryAfterMs } from "./answer.ts";

/**
 * A mail API answer or a failure to reach it, said in words; never carries the API key.
 * Permanent (the port's bounce) when the API refused the message for its recipient.
 */
export class MailApiError extends MailFailure {
  override readonly name = "MailApiError";
  constructor(
    /** The provider's HTTP status, or null when no answer came. */
    readonly status: number | null,
    message: string,
    permanent = false,
  ) {
    super(message, permanent);
  }
}

/**
 * A 400 or 422 is the provider refusing this message as it is (Resend's invalid `to`, Postmark's
 * inactive recipient, SendGrid's and Mailgun's invalid address): sending it again cannot help.
 * Unless it names the sender: a MAIL_FROM the provider does not accept is the shop's setting to
 * fix, and the receipts should go once it is. 401/403 (the key), 429 and 5xx are never permanent.
 */
function refusedForGood(status: number, detail: string): boolean {
  return (status === 400 || status === 422) && !/\bfrom\b|\bsender\b/i.test(detail);
}

export interface HttpMailer extends MailTransport {
  /** host and path of the API, for messages. */
  readonly endpoint: string;
}

export interface HttpMailerOptions {
  /** The provider's send endpoint, e.g. https://api.resend.com/emails. */
  url: string;
  apiKey: string;
  from: string;
  timeoutMs?: number;
  /** Tries per message, the first included. */
  attempts?: number;
  /** First pause before a retry; it doubles each time. */
  backoffMs?: number;
}

const MAX_PAUSE_MS = 5_000;

type Outcome = { ok: true } | { ok: false; retry: boolean; pauseMs: number | null; error: Error };

/**
 * Mail through a Resend-style HTTP API: POST JSON `{ from, to: [to], subject, text, html }` (and
 * `headers`, an object of extra header fields, when the message has some) with
 * `Authorization: Bearer <key>`. Uses fetch only, so it runs on Workers too. 429 and 5xx answers
 * and unreachable servers are retried briefly with one Idempotency-Key per message, so a retry of
 * a send the provider did take is not delivered twice (where the provider honours the header).
 */
export function httpMailer(opts: HttpMailerOptions): HttpMailer {
  const url = new URL(opts.url);
  const endpoint = `${url.host}${url.pathname}`;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const attempts = opts.attempts ?? 3;
  const backoffMs = opts.backoffMs ?? 250;

  async function post(message: MailMessage, idempotencyKey: string): Promise<Outcome> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${opts.apiKey}`,
          "content-type": "application/json",
          "idempotency-key": idempotencyKey,
        },
        body: JSON.stringify({
          from: opts.from,
          to: [message.to],
          ...(message.replyTo ? { reply_to: message.replyTo } : {}),
          subject: message.subject,
          text: message.text,
          html: message.html,
          ...(message.headers ? { headers: message.headers } : {}),
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // A request that timed out may still be processed: waiting longer is the caller's call.
      if ((error as { name?: unknown } | null)?.name === "TimeoutError")
        return fail(false, null, null, `did not answer within ${timeoutMs / 1000}s`);
      return fail(true, null, null, `could not be reached (${networkReason(error)})`);
    }
    if (res.ok) {
      await res.body?.cancel();
      return { ok: true };
    }
    const retry = res.status === 429 || res.status >= 500;
    const hint = res.status === 401 || res.status === 403 ? " (check MAIL_API_KEY)" : "";
    const detail = await providerMessage(res);
    return fail(
      retry,
      retry ? retryAfterMs(res) : null,
      res.status,
      `answered ${res.status}${hint}: ${detail}`,
      refusedForGood(res.status, detail),
    );
  }

  function fail(
    retry: boolean,
    pauseMs: number | null,
    status: number | null,
    what: string,
    permanent = false,
  ): Outcome {
    let text = `mail API ${endpoint} ${what}`;
    if (opts.apiKey) text = text.split(opts.apiKey).join("***");
    return { ok: false, retry, pauseMs, error: new MailApiError(status, text, permanent) };
  }

  return {
    endpoint,
    async send(message) {
      const idempotencyKey = crypto.randomUUID();
      for (let attempt = 1; ; attempt++) {
        const outcome = await post(message, idempotencyKey);
        if (outcome.ok) return;
        if (!outcome.retry || attempt >= attempts) throw outcome.error;
        const pause = Math.min(outcome.pauseMs ?? backoffMs * 2 ** (attempt - 1), MAX_PAUSE_MS);
        await new Promise((resume) => setTimeout(resume, pause));
      }
    },
  };
}

function networkReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  if (cause?.code === "ENOTFOUND") return "host not found";
  return cause?.code ?? (error instanceof Error ? error.message : String(error));
}
