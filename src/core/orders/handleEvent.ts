import { sql } from "kysely";
import { type Ctx, db, withSharedCommit } from "../context.ts";
import type { ProviderEvent } from "../ports.ts";
import type { EventOutcome } from "./events.ts";
import { fulfil } from "./fulfil.ts";
import { sendReceipt } from "./receipts.ts";

/** Statuses of an event that is done with: a redelivery changes nothing. */
const HANDLED = ["processed", "ignored", "flagged"];

export interface HandledEvent {
  duplicate: boolean;
  outcome: EventOutcome | null;
}

/**
 * Records a provider event and applies it, in one transaction: either the event is recorded as
 * handled together with all its effects, or nothing is written and the error goes back to the
 * provider (5xx) so it retries. A second delivery, even concurrent, finds the event handled.
 */
export async function handleProviderEvent({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { event: ProviderEvent; force?: boolean };
}): Promise<HandledEvent> {
  const { event } = input;
  const now = ctx.clock.now();
  if (event.livemode !== ctx.payments.livemode) {
    await record(
      ctx,
      event,
      "ignored",
      `livemode ${event.livemode} does not match this shop's key`,
    );
    return { duplicate: false, outcome: { status: "ignored", note: "livemode mismatch" } };
  }
  try {
    // A redelivery of a handled event stops here, before any call to the provider.
    if (!input.force && (await alreadyHandled(ctx, event.id)))
      return { duplicate: true, outcome: null };
    const paymentEvent = await event.translate();
    // Its commit may be shared with other events' and downloads' (group commit on Node).
    const result = await withSharedCommit(ctx, async (tx) => {
      await db(tx)
        .insertInto("webhook_events")
        .values({
          id: event.id,
          type: event.type,
          status: "received",
          error: null,
          payload: event.payload,
          received_at: now,
          processed_at: null,
        })
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
      // The UPDATE locks the row (Postgres) or runs under the write lock (SQLite): a concurrent
      // copy waits here, then finds the event handled.
      let claim = db(tx)
        .updateTable("webhook_events")
        .set({ status: "processing" })
        .where("id", "=", event.id);
      if (!input.force) claim = claim.where("status", "not in", HANDLED);
      const claimed = await claim.executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1)
        return { duplicate: true, outcome: null, receiptFor: null };
      const fulfilment = paymentEvent
        ? await fulfil(tx, paymentEvent)
        : {
            outcome: { status: "ignored" as const, note: "not an event Tollgate acts on" },
            receiptFor: null,
          };
      await db(tx)
        .updateTable("webhook_events")
        .set({
          status: fulfilment.outcome.status,
          error: fulfilment.outcome.note ?? null,
          processed_at: tx.clock.now(),
        })
        .where("id", "=", event.id)
        .execute();
      return { duplicate: false, ...fulfilment };
    });
    if (result.receiptFor) await sendReceipt(ctx, result.receiptFor);
    if (!result.duplicate)
      ctx.log.info("payment event handled", { id: event.id, type: event.type, ...result.outcome });
    return { duplicate: result.duplicate, outcome: result.outcome };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.log.error("payment event failed", { id: event.id, type: event.type, error: message });
    await record(ctx, event, "failed", message).catch(() => {});
    throw error;
  }
}

async function alreadyHandled(ctx: Ctx, id: string): Promise<boolean> {
  const row = await db(ctx)
    .selectFrom("webhook_events")
    .select("status")
    .where("id", "=", id)
    .executeTakeFirst();
  return row !== undefined && HANDLED.includes(row.status);
}

/** Writes the event's status outside any transaction (failures, ignored livemode). */
async function record(
  ctx: Ctx,
  event: ProviderEvent,
  status: string,
  error: string,
): Promise<void> {
  const now = ctx.clock.now();
  await db({ ...ctx, trx: undefined })
    .insertInto("webhook_events")
    .values({
      id: event.id,
      type: event.type,
      status,
      error: error.slice(0, 1000),
      payload: event.payload,
      received_at: now,
      processed_at: null,
    })
    .onConflict((oc) =>
      oc.column("id").doUpdateSet({
        status: sql`case when webhook_events.status in (${sql.join(HANDLED)}) then webhook_events.status else ${status} end`,
        error: error.slice(0, 1000),
      }),
    )
    .execute();
}
