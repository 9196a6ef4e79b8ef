import { sql } from "kysely";
import { type Ctx, db, withSharedCommit } from "../context.ts";
import type { CheckoutView, PaymentEvent, ProviderEvent } from "../ports.ts";
import { stampsQueued } from "../stamping/stamps.ts";
import type { EventOutcome } from "./events.ts";
import { type Fulfilment, fulfil } from "./fulfil.ts";
import { paymentFailedMailQueued } from "./pastDue.ts";
import { receiptsQueued } from "./receipts.ts";

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
  ctx: caller,
  input,
}: {
  ctx: Ctx;
  input: { event: ProviderEvent; force?: boolean };
}): Promise<HandledEvent> {
  const { event } = input;
  // Whoever delivers it (the webhook, reconcile, a replay), the event is what changes access.
  const ctx: Ctx = { ...caller, cause: `stripe:${event.id}` };
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
    // A redelivery of a handled event stops here, before any call to the provider. One whose
    // translation asks the provider nothing is found handled by the claim in apply() instead:
    // a read fewer (a round trip on Postgres) for every event.
    if (!input.force && !event.translatesOffline && (await alreadyHandled(ctx, event.id)))
      return { duplicate: true, outcome: null };
    let paymentEvent = await event.translate();
    let result = await apply(ctx, event, paymentEvent, input.force, now);
    if (result.needsCheckoutDetails && paymentEvent && "checkout" in paymentEvent) {
      // The event's copy of the session did not settle it: ask the provider for the whole
      // session, outside any transaction, and apply the event again with it.
      paymentEvent = { ...paymentEvent, checkout: await withDetails(ctx, paymentEvent.checkout) };
      result = await apply(ctx, event, paymentEvent, input.force, now);
    }
    await receiptsQueued(ctx, [result.receiptQueued]);
    if (result.receiptQueued) stampsQueued(ctx);
    if (!result.duplicate) await paymentFailedMailQueued(ctx, result.paymentFailedMail);
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

/**
 * Records the event and applies it in one transaction, whose commit may be shared with other
 * events' and downloads' (group commit on Node). When fulfilment needs the whole session first,
 * nothing but the event's arrival is written.
 */
async function apply(
  ctx: Ctx,
  event: ProviderEvent,
  paymentEvent: PaymentEvent | null,
  force: boolean | undefined,
  now: number,
): Promise<
  | ({ duplicate: false } & Fulfilment)
  | { duplicate: true; outcome: null; receiptQueued: null; needsCheckoutDetails?: undefined }
> {
  return withSharedCommit(ctx, async (tx) => {
    // One statement records the event and claims it: a new row, or one not handled yet. The
    // upsert locks the row (Postgres) or runs under the write lock (SQLite): a concurrent copy
    // waits here, then finds the event handled. The hot statements of this path are written
    // out in SQL: building them with Kysely cost more than running them (docs/performance.md).
    const claimed = await sql`insert into webhook_events
        (id, type, status, error, payload, received_at, processed_at)
        values (${event.id}, ${event.type}, 'processing', null, ${event.payload}, ${now}, null)
        on conflict (id) do update set status = 'processing'
        ${force ? sql`` : sql`where webhook_events.status not in (${sql.join(HANDLED)})`}`.execute(
      db(tx),
    );
    if (Number(claimed.numAffectedRows ?? 0) !== 1)
      return { duplicate: true as const, outcome: null, receiptQueued: null };
    const fulfilment = paymentEvent
      ? await fulfil(tx, paymentEvent)
      : { outcome: IGNORED, receiptQueued: null };
    const { status, error, processedAt } = fulfilment.needsCheckoutDetails
      ? { status: "received", error: null, processedAt: null }
      : {
          status: fulfilment.outcome.status,
          error: fulfilment.outcome.note ?? null,
          processedAt: tx.clock.now(),
        };
    await sql`update webhook_events set status = ${status}, error = ${error},
        processed_at = ${processedAt} where id = ${event.id}`.execute(db(tx));
    return { duplicate: false as const, ...fulfilment };
  });
}

const IGNORED = { status: "ignored" as const, note: "not an event Tollgate acts on" };

/** The session as the provider has it now: line items and subscription period included. */
async function withDetails(ctx: Ctx, checkout: CheckoutView): Promise<CheckoutView> {
  const details = await ctx.payments.retrieveCheckout(checkout.id);
  // A provider that does not know the session (a stateless mock) leaves the line-item check out.
  const usable = details?.id === checkout.id && details.currency !== null;
  return {
    ...checkout,
    detailed: true,
    lineItems: usable ? details.lineItems : null,
    subscriptionPeriodEnd: usable ? details.subscriptionPeriodEnd : null,
  };
}

async function alreadyHandled(ctx: Ctx, id: string): Promise<boolean> {
  const { rows } = await sql<{
    status: string;
  }>`select status from webhook_events where id = ${id}`.execute(db(ctx));
  return rows[0] !== undefined && HANDLED.includes(rows[0].status);
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
