import { type Ctx, db, requireAdmin } from "../context.ts";
import { notFound } from "../errors.ts";
import { handleProviderEvent } from "./handleEvent.ts";

export interface ReconcileReport {
  seen: number;
  applied: number;
  alreadyHandled: number;
  failed: { id: string; error: string }[];
}

/**
 * After an outage: every event the provider has since a time goes through the same path as a
 * webhook. Events already handled are skipped by that path, so running it twice changes nothing.
 */
export async function reconcile({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sinceMs: number; onEvent?: (id: string, type: string, result: string) => void };
}): Promise<ReconcileReport> {
  requireAdmin(ctx);
  const report: ReconcileReport = { seen: 0, applied: 0, alreadyHandled: 0, failed: [] };
  for await (const event of ctx.payments.events.listSince(input.sinceMs)) {
    report.seen++;
    try {
      const result = await handleProviderEvent({ ctx, input: { event } });
      if (result.duplicate) report.alreadyHandled++;
      else report.applied++;
      input.onEvent?.(
        event.id,
        event.type,
        result.duplicate ? "already handled" : (result.outcome?.status ?? "handled"),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.failed.push({ id: event.id, error: message });
      input.onEvent?.(event.id, event.type, `failed: ${message}`);
    }
  }
  ctx.log.info("reconcile finished", { ...report, failed: report.failed.length });
  return report;
}

/** Applies a recorded event again through the same path (the seller's "replay"). */
export async function replayEvent({ ctx, input }: { ctx: Ctx; input: { eventId: string } }) {
  requireAdmin(ctx);
  const row = await db(ctx)
    .selectFrom("webhook_events")
    .select(["payload"])
    .where("id", "=", input.eventId)
    .executeTakeFirst();
  if (!row) throw notFound("There is no such event.");
  return handleProviderEvent({
    ctx,
    input: { event: ctx.payments.events.fromStored(row.payload), force: true },
  });
}
