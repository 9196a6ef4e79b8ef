import { sql } from "kysely";
import { type Ctx, db, newTimeOrderedId } from "../context.ts";

/**
 * The events a seller's endpoint may subscribe to (decision 0017; their data in
 * docs/webhooks.md). Recorded in the transaction of the change each tells of.
 */
export const WEBHOOK_EVENT_TYPES = [
  "order.paid",
  "order.refunded",
  "access.granted",
  "access.revoked",
  "release.published",
  "license.activated",
  "license.deactivated",
  "license.revoked",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Stands for the product's slug in the payload until the statement puts it there. */
const SLUG = "\u0000slug\u0000";
const SLUG_JSON = JSON.stringify(SLUG).slice(1, -1);

/**
 * Records an event for every enabled endpoint subscribed to its type, in the caller's
 * transaction, so it is sent if and only if the change commits: one `insert ... select` (an
 * outbox row per endpoint), and nothing at all while this process knows the shop has no
 * endpoint (the Stripe webhook's hot path, docs/performance.md). The payload is
 * `{ type, timestamp, data }` as Standard Webhooks suggests; with `productId`, data also gets
 * `productId` and `productSlug`, the slug read by the same statement. After the commit the
 * sender (woken by this call, it waits a moment) or its next tick, within a second, sends them. The releases
 * feature records `release.published` with this.
 */
export async function recordWebhookEvent(
  ctx: Ctx,
  type: WebhookEventType,
  data: Record<string, unknown>,
  opts: { productId?: string } = {},
): Promise<void> {
  if (ctx.webhookSender && !ctx.webhookSender.endpointsMayExist()) return;
  const now = ctx.clock.now();
  const messageId = newTimeOrderedId(ctx, "msg");
  const deliveryPrefix = `${newTimeOrderedId(ctx, "whd")}_`;
  const payload = JSON.stringify({
    type,
    timestamp: new Date(now).toISOString(),
    data: opts.productId ? { ...data, productId: opts.productId, productSlug: SLUG } : data,
  });
  // A slug is [a-z0-9-] (catalog/schemas.ts): it needs no escaping inside the JSON string.
  const [before, after = ""] = payload.split(SLUG_JSON);
  const body = opts.productId ? sql`${before} || p.slug || ${after}` : sql`${payload}`;
  // Written out in SQL, as the rest of the webhook's hot path.
  await sql`insert into webhook_deliveries
      (id, endpoint_id, message_id, event_type, payload, status, attempts, next_attempt_at,
       lease_until, response_status, last_error, last_attempt_at, created_at)
    select ${deliveryPrefix} || e.id, e.id, ${messageId}, ${type}, ${body}, 'pending', 0, ${now},
       null, null, null, null, ${now}
    from webhook_endpoints e
    ${opts.productId ? sql`join products p on p.id = ${opts.productId}` : sql``}
    where e.enabled = 1 and e.events like ${`%"${type}"%`}`.execute(db(ctx));
  ctx.webhookSender?.wake();
}
