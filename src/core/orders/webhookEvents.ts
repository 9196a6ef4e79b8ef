import { type Ctx, db, requireAdmin } from "../context.ts";
import { isoTime as iso } from "../encoding.ts";

/** Recorded Stripe events with how each was handled, newest first. */
export async function listWebhookEvents({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit: number; status?: string };
}) {
  requireAdmin(ctx);
  let query = db(ctx)
    .selectFrom("webhook_events")
    .select(["id", "type", "status", "error", "received_at", "processed_at"]);
  if (input.status) query = query.where("status", "=", input.status);
  const rows = await query.orderBy("received_at", "desc").limit(input.limit).execute();
  return rows.map((e) => ({
    id: e.id,
    type: e.type,
    status: e.status,
    error: e.error,
    receivedAt: iso(e.received_at),
    processedAt: iso(e.processed_at),
  }));
}
