import { PostgresAdapter, sql } from "kysely";
import { mailAdmins } from "../alerts.ts";
import { type Ctx, db, sharedWrite } from "../context.ts";
import { type DrainLoop, drainLoop } from "../drainLoop.ts";
import type { Logger, WebhookSender } from "../ports.ts";
import { isPrivateHost } from "./addresses.ts";

/**
 * Sending outgoing webhooks (decision 0017). A sender claims due deliveries under a lease
 * (Postgres: FOR UPDATE SKIP LOCKED), so two processes never send one twice; posts each, signed
 * as Standard Webhooks says, with a 10 s timeout and no redirects followed; and records the
 * outcome in one commit, only for the rows it still holds.
 */

/** How long a sender may hold a delivery: the timeout and a wide margin. */
const LEASE_MS = 60_000;
export const TIMEOUT_MS = 10_000;
/** The first retry waits this long; each next one twice the last, at most RETRY_CAP_MS. */
export const FIRST_RETRY_MS = 15_000;
const RETRY_CAP_MS = 12 * 3600_000;
/** A delivery is given up on, and an endpoint failing all along disabled, after this long. */
export const GIVE_UP_MS = 3 * 24 * 3600_000;
const BATCH = 16;

/** The wait after the `attempt`-th failed try (from 1): 15 s, 30 s, 60 s, ... 12 h. */
export const retryDelay = (attempt: number) =>
  Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), RETRY_CAP_MS);

/** A new endpoint's signing secret: whsec_ and the base64 of 32 random bytes. */
export function newSigningSecret(ctx: Pick<Ctx, "crypto">): string {
  return `whsec_${toBase64(ctx.crypto.randomBytes(32))}`;
}

/**
 * The Standard Webhooks headers for one try: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret's base64-decoded key.
 */
export async function signatureHeaders(
  ctx: Pick<Ctx, "crypto">,
  secret: string,
  messageId: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  const key = fromBase64(secret.replace(/^whsec_/, ""));
  const mac = await ctx.crypto.hmacSha256(key, `${messageId}.${timestampSeconds}.${body}`);
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${toBase64(mac)}`,
  };
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Why this URL may not take webhooks, or null. Checked at registration and before each try. */
export function refusedUrl(ctx: Pick<Ctx, "settings">, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    return "must start with https:// (or http://)";
  if (parsed.username || parsed.password) return "must not carry a user name or password";
  if (!ctx.settings.webhookAllowPrivateUrls && isPrivateHost(parsed.hostname))
    return "points at a loopback or private address; set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow that (tests, private networks)";
  return null;
}

type Outcome = { ok: boolean; status: number | null; error: string | null };

/**
 * Posts one delivery: the URL checked again, signed, 10 s at most. Unless private addresses are
 * allowed, through the runtime's `publicFetch` (Node), which refuses a name that resolves inside
 * at connection time.
 */
async function post(
  ctx: Ctx,
  to: { url: string; secret: string },
  delivery: { message_id: string; payload: string },
): Promise<Outcome> {
  const refused = refusedUrl(ctx, to.url);
  if (refused) return { ok: false, status: null, error: `The URL ${refused}.` };
  const send = ctx.settings.webhookAllowPrivateUrls
    ? fetch
    : (ctx.webhookSender?.publicFetch ?? fetch);
  const headers = await signatureHeaders(
    ctx,
    to.secret,
    delivery.message_id,
    Math.floor(ctx.clock.now() / 1000),
    delivery.payload,
  );
  try {
    const res = await send(to.url, {
      method: "POST",
      body: delivery.payload,
      headers: {
        "content-type": "application/json",
        "user-agent": "Tollgate-Webhooks",
        ...headers,
      },
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
    const error =
      res.status >= 300 && res.status < 400
        ? `Redirect to ${res.headers.get("location") ?? "?"} not followed.`
        : `The endpoint answered ${res.status}.`;
    return { ok: false, status: res.status, error };
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    return {
      ok: false,
      status: null,
      error:
        name === "TimeoutError"
          ? `No answer within ${TIMEOUT_MS / 1000} s.`
          : `Could not connect: ${reasonOf(error)}`,
    };
  }
}

/** fetch fails with "fetch failed" and the reason in its cause. */
function reasonOf(error: unknown): string {
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Sends the due deliveries of enabled endpoints, a batch at a time, until none is due (or
 * `limit` rows were claimed). Safe to run from several processes at once. Answers how many it
 * claimed.
 */
export async function sendDueWebhooks({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { limit?: number };
}): Promise<number> {
  let total = 0;
  for (;;) {
    const claimed = await sendBatch(ctx);
    total += claimed;
    if (claimed < BATCH || (input.limit && total >= input.limit)) return total;
  }
}

async function sendBatch(ctx: Ctx): Promise<number> {
  const now = ctx.clock.now();
  const leaseUntil = now + LEASE_MS;
  const postgres = ctx.db.getExecutor().adapter instanceof PostgresAdapter;
  const free = sql<boolean>`(lease_until is null or lease_until < ${now})`;
  const claimed = await sharedWrite(ctx, async (tx) => {
    const { rows } = await sql<{
      id: string;
      endpoint_id: string;
      message_id: string;
      payload: string;
      attempts: number;
      created_at: number;
    }>`update webhook_deliveries set lease_until = ${leaseUntil}, attempts = attempts + 1
        where id in (
          select id from webhook_deliveries
          where status = 'pending' and next_attempt_at <= ${now} and ${free}
            and endpoint_id in (select id from webhook_endpoints where enabled = 1)
          order by next_attempt_at limit ${BATCH} ${postgres ? sql`for update skip locked` : sql``})
        and ${free}
        returning id, endpoint_id, message_id, payload, attempts, created_at`.execute(db(tx));
    return rows;
  });
  if (!claimed.length) return 0;
  const endpoints = new Map(
    (
      await db(ctx)
        .selectFrom("webhook_endpoints")
        .select(["id", "url", "secret", "failing_since"])
        .where("id", "in", [...new Set(claimed.map((d) => d.endpoint_id))])
        .execute()
    ).map((e) => [e.id, e]),
  );
  const outcomes = await Promise.all(
    claimed.map(async (d) => {
      const endpoint = endpoints.get(d.endpoint_id);
      const outcome = endpoint
        ? await post(ctx, endpoint, d)
        : { ok: false, status: null, error: "The endpoint was deleted." };
      return { delivery: d, outcome, at: ctx.clock.now() };
    }),
  );

  const disabled = await sharedWrite(ctx, async (tx) => {
    for (const { delivery, outcome, at } of outcomes) {
      // The last try is the one at three days; the retries before it back off exponentially.
      const lastTryAt = Number(delivery.created_at) + GIVE_UP_MS;
      const retryAt = Math.min(at + retryDelay(Number(delivery.attempts)), lastTryAt);
      const givenUp = !outcome.ok && at >= lastTryAt;
      await db(tx)
        .updateTable("webhook_deliveries")
        .set({
          status: outcome.ok ? "delivered" : givenUp ? "failed" : "pending",
          next_attempt_at: outcome.ok || givenUp ? null : retryAt,
          lease_until: null,
          response_status: outcome.status,
          last_error: outcome.error?.slice(0, 500) ?? null,
          last_attempt_at: at,
        })
        .where("id", "=", delivery.id)
        .where("lease_until", "=", leaseUntil)
        .execute();
    }
    const ok = new Set(outcomes.filter((o) => o.outcome.ok).map((o) => o.delivery.endpoint_id));
    const failed = new Set(
      outcomes.filter((o) => !o.outcome.ok).map((o) => o.delivery.endpoint_id),
    );
    const at = tx.clock.now();
    if (ok.size)
      await db(tx)
        .updateTable("webhook_endpoints")
        .set({ failing_since: null })
        .where("id", "in", [...ok])
        .execute();
    const stillFailing = [...failed].filter((id) => !ok.has(id));
    if (!stillFailing.length) return [];
    // Failing since the oldest event it has not taken (its first try came right after).
    for (const id of stillFailing) {
      const since = Math.min(
        ...outcomes
          .filter((o) => o.delivery.endpoint_id === id)
          .map((o) => Number(o.delivery.created_at)),
      );
      await db(tx)
        .updateTable("webhook_endpoints")
        .set({ failing_since: since })
        .where("id", "=", id)
        .where("failing_since", "is", null)
        .execute();
    }
    // Failing for three days and more, with no success in between: disabled, the seller told.
    const reason = "Every delivery failed for three days.";
    return db(tx)
      .updateTable("webhook_endpoints")
      .set({ enabled: 0, disabled_reason: reason, updated_at: at })
      .where("id", "in", stillFailing)
      .where("enabled", "=", 1)
      .where("failing_since", "<=", at - GIVE_UP_MS)
      .returning(["id", "url", "failing_since"])
      .execute();
  });
  for (const { delivery, outcome } of outcomes) {
    if (outcome.ok) ctx.log.info("webhook delivered", { deliveryId: delivery.id });
    else ctx.log.warn("webhook not delivered", { deliveryId: delivery.id, error: outcome.error });
  }
  for (const endpoint of disabled) await tellSellerDisabled(ctx, endpoint, outcomes);
  return claimed.length;
}

async function tellSellerDisabled(
  ctx: Ctx,
  endpoint: { id: string; url: string; failing_since: number | null },
  outcomes: { delivery: { endpoint_id: string }; outcome: Outcome }[],
): Promise<void> {
  ctx.log.warn("webhook endpoint disabled after three days of failures", {
    endpointId: endpoint.id,
  });
  const lastError =
    outcomes.find((o) => o.delivery.endpoint_id === endpoint.id)?.outcome.error ?? null;
  await mailAdmins(
    ctx,
    (to) => ({
      kind: "webhook-disabled",
      to,
      url: endpoint.url,
      failingSince: Number(endpoint.failing_since),
      lastError,
      pageUrl: `${ctx.settings.publicUrl}/admin/webhooks/endpoints/${endpoint.id}`,
    }),
    "could not mail the seller about a disabled endpoint",
  );
}

/**
 * The Node runtime's background sender: woken after commits that recorded deliveries, and
 * every second (retries fall due; another process may have recorded some); it also asks every
 * second whether the shop has any enabled endpoint, so that without one a payment records
 * nothing. One drain at a time in this process; leases keep processes apart.
 */
export function backgroundWebhookSender(
  log: Logger,
  opts: { publicFetch?: typeof fetch; tickMs?: number } = {},
): WebhookSender & DrainLoop {
  let known: boolean | null = null; // null: not asked yet, so take them to exist
  // This process changed the endpoints then: a look begun before the change may answer none.
  let changedAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setInterval> | null = null;

  const look = async (c: Ctx) => {
    const row = await db(c)
      .selectFrom("webhook_endpoints")
      .select("id")
      .where("enabled", "=", 1)
      .limit(1)
      .executeTakeFirst();
    known = row !== undefined;
  };
  const loop = drainLoop({
    log,
    failure: "webhook sender failed; the deliveries stay queued",
    // A moment after the call: it is made inside the transaction that recorded the rows.
    delayMs: 20,
    drain: async (c) => {
      await look(c);
      if (known) await sendDueWebhooks({ ctx: c });
    },
    onStop: () => {
      if (timer) clearInterval(timer);
    },
  });
  return {
    ...loop,
    ...(opts.publicFetch ? { publicFetch: opts.publicFetch } : {}),
    start(c: Ctx) {
      timer = setInterval(() => loop.wake(), opts.tickMs ?? 1000);
      (timer as { unref?: () => void }).unref?.();
      loop.start(c);
    },
    endpointsMayExist: () => known !== false || performance.now() - changedAt < 2000,
    endpointsChanged() {
      known = null;
      changedAt = performance.now();
      loop.wake();
    },
  };
}
