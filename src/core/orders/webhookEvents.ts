import { type Ctx, db, requireAdmin } from "../context.ts";
import { isoTime as iso } from "../encoding.ts";
import { limitSchema, parseInput } from "../validate.ts";

/** Recorded Stripe events with how each was handled, newest first. */
export async function listWebhookEvents({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit?: number | string | undefined; status?: string };
}) {
  requireAdmin(ctx);
  const limit = parseInput(limitSchema, input.limit);
  let query = db(ctx)
    .selectFrom("webhook_events")
    .select(["id", "type", "status", "error", "received_at", "processed_at"]);
  if (input.status) query = query.where("status", "=", input.status);
  const rows = await query.orderBy("received_at", "desc").limit(limit).execute();
  return rows.map((e) => ({
    id: e.id,
    type: e.type,
    status: e.status,
    error: e.error,
    receivedAt: iso(e.received_at),
    processedAt: iso(e.processed_at),
  }));
}
