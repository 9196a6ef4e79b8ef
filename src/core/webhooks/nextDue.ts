import { type Ctx, db } from "../context.ts";

/**
 * When the earliest pending delivery of an enabled endpoint falls due (epoch ms), or null when
 * none waits. One query on the `next_attempt_at` index. The Worker asks it after its drain, to
 * tell whether a failed first try's retry falls within what is left of its waitUntil time.
 */
export async function nextWebhookDue(ctx: Ctx): Promise<number | null> {
  const row = await db(ctx)
    .selectFrom("webhook_deliveries")
    .select("next_attempt_at")
    .where("status", "=", "pending")
    .where("next_attempt_at", "is not", null)
    .where("endpoint_id", "in", (eb) =>
      eb.selectFrom("webhook_endpoints").select("id").where("enabled", "=", 1),
    )
    .orderBy("next_attempt_at")
    .limit(1)
    .executeTakeFirst();
  return row?.next_attempt_at == null ? null : Number(row.next_attempt_at);
}
