import type { WebhookDelivery, WebhookEndpoint } from "../../db/schema.ts";
import {
  type Ctx,
  db,
  newId,
  newTimeOrderedId,
  requireAdmin,
  withTransaction,
} from "../context.ts";
import { isoTime } from "../encoding.ts";
import { invalidInput, notFound } from "../errors.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { WEBHOOK_EVENT_TYPES } from "./events.ts";
import { newSigningSecret, refusedUrl } from "./send.ts";

/** The seller's outgoing webhook endpoints and their delivery logs (decision 0017). */

const urlSchema = z.string().check(z.trim(), z.minLength(1, "is required"), z.maxLength(2000));
const eventsSchema = z
  .array(
    z.enum(WEBHOOK_EVENT_TYPES, { message: `must be among ${WEBHOOK_EVENT_TYPES.join(", ")}` }),
  )
  .check(z.minLength(1, "name at least one event"));

export const createEndpointSchema = z.object({ url: urlSchema, events: eventsSchema });
export const updateEndpointSchema = z.object({
  url: z.optional(urlSchema),
  events: z.optional(eventsSchema),
  enabled: z.optional(z.boolean()),
});

/** An endpoint as the API and pages show it; never its secret (only creation answers that). */
export function endpointJson(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    events: JSON.parse(e.events) as string[],
    enabled: e.enabled === 1,
    disabledReason: e.disabled_reason,
    failingSince: isoTime(e.failing_since === null ? null : Number(e.failing_since)),
    createdAt: isoTime(Number(e.created_at)) as string,
  };
}
export type EndpointJson = ReturnType<typeof endpointJson>;

export function deliveryJson(d: WebhookDelivery) {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: d.id,
    endpointId: d.endpoint_id,
    messageId: d.message_id,
    type: d.event_type,
    status: d.status,
    attempts: Number(d.attempts),
    responseStatus: num(d.response_status),
    lastError: d.last_error,
    lastAttemptAt: isoTime(num(d.last_attempt_at)),
    nextAttemptAt: isoTime(num(d.next_attempt_at)),
    createdAt: isoTime(Number(d.created_at)) as string,
  };
}
export type DeliveryJson = ReturnType<typeof deliveryJson>;

function checkUrl(ctx: Ctx, url: string): void {
  const refused = refusedUrl(ctx, url);
  if (refused)
    throw invalidInput(`url: ${refused}`, { fields: [{ field: "url", message: refused }] });
}

/** Registers an endpoint; the answer carries its signing secret, the only time it is shown. */
export async function createEndpoint({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof createEndpointSchema>;
}): Promise<EndpointJson & { secret: string }> {
  requireAdmin(ctx);
  const { url, events } = parseInput(createEndpointSchema, input);
  checkUrl(ctx, url);
  const now = ctx.clock.now();
  const row: WebhookEndpoint = {
    id: newId(ctx, "we"),
    url,
    events: JSON.stringify([...new Set(events)]),
    secret: newSigningSecret(ctx),
    enabled: 1,
    disabled_reason: null,
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  ctx.webhookSender?.endpointsChanged();
  await db(ctx).insertInto("webhook_endpoints").values(row).execute();
  ctx.webhookSender?.endpointsChanged();
  ctx.log.info("webhook endpoint registered", { endpointId: row.id, url });
  return { ...endpointJson(row), secret: row.secret };
}

export async function listEndpoints({ ctx }: { ctx: Ctx }): Promise<EndpointJson[]> {
  requireAdmin(ctx);
  const rows = await db(ctx)
    .selectFrom("webhook_endpoints")
    .selectAll()
    .orderBy("created_at", "desc")
    .execute();
  return rows.map(endpointJson);
}

async function findEndpoint(ctx: Ctx, id: string): Promise<WebhookEndpoint> {
  const row =
    typeof id === "string" && id.length <= 64
      ? await db(ctx)
          .selectFrom("webhook_endpoints")
          .selectAll()
          .where("id", "=", id)
          .executeTakeFirst()
      : undefined;
  if (!row) throw notFound("There is no such webhook endpoint.");
  return row;
}

export async function getEndpoint({ ctx, input }: { ctx: Ctx; input: { id: string } }) {
  requireAdmin(ctx);
  return endpointJson(await findEndpoint(ctx, input.id));
}

/** Changes its URL or events, or disables or enables it (enabling forgets its failures). */
export async function updateEndpoint({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: string; changes: InputOf<typeof updateEndpointSchema> };
}): Promise<EndpointJson> {
  requireAdmin(ctx);
  const changes = parseInput(updateEndpointSchema, input.changes);
  const row = await findEndpoint(ctx, input.id);
  if (changes.url !== undefined) checkUrl(ctx, changes.url);
  const set: Partial<WebhookEndpoint> = { updated_at: ctx.clock.now() };
  if (changes.url !== undefined) set.url = changes.url;
  if (changes.events !== undefined) set.events = JSON.stringify([...new Set(changes.events)]);
  if (changes.enabled === true)
    Object.assign(set, { enabled: 1, disabled_reason: null, failing_since: null });
  if (changes.enabled === false)
    Object.assign(set, { enabled: 0, disabled_reason: "Disabled by the seller." });
  ctx.webhookSender?.endpointsChanged();
  await db(ctx).updateTable("webhook_endpoints").set(set).where("id", "=", row.id).execute();
  ctx.webhookSender?.endpointsChanged();
  return endpointJson({ ...row, ...set });
}

export async function deleteEndpoint({ ctx, input }: { ctx: Ctx; input: { id: string } }) {
  requireAdmin(ctx);
  const row = await findEndpoint(ctx, input.id);
  await withTransaction(ctx, async (tx) => {
    await db(tx).deleteFrom("webhook_deliveries").where("endpoint_id", "=", row.id).execute();
    await db(tx).deleteFrom("webhook_endpoints").where("id", "=", row.id).execute();
  });
  ctx.webhookSender?.endpointsChanged();
  ctx.log.info("webhook endpoint deleted", { endpointId: row.id });
}

/** An endpoint's deliveries, newest first: status, response code, time, attempts. */
export async function listDeliveries({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: string; limit?: number };
}): Promise<DeliveryJson[]> {
  requireAdmin(ctx);
  const row = await findEndpoint(ctx, input.id);
  const rows = await db(ctx)
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("endpoint_id", "=", row.id)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(Math.min(Math.max(Number(input.limit) || 100, 1), 1000))
    .execute();
  return rows.map(deliveryJson);
}

/**
 * Sends a delivery again: a new delivery of the same message (same webhook-id and body, so a
 * receiver that keeps ids sees the repeat), due now, with three days of retries of its own.
 */
export async function replayDelivery({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: string };
}): Promise<DeliveryJson> {
  requireAdmin(ctx);
  const old =
    typeof input.id === "string" && input.id.length <= 120
      ? await db(ctx)
          .selectFrom("webhook_deliveries")
          .selectAll()
          .where("id", "=", input.id)
          .executeTakeFirst()
      : undefined;
  if (!old) throw notFound("There is no such webhook delivery.");
  const now = ctx.clock.now();
  const row: WebhookDelivery = {
    ...old,
    id: newTimeOrderedId(ctx, "whd"),
    status: "pending",
    attempts: 0,
    next_attempt_at: now,
    lease_until: null,
    response_status: null,
    last_error: null,
    last_attempt_at: null,
    created_at: now,
  };
  await db(ctx).insertInto("webhook_deliveries").values(row).execute();
  ctx.webhookSender?.wake();
  ctx.log.info("webhook delivery replayed", { deliveryId: old.id, replay: row.id });
  return deliveryJson(row);
}
