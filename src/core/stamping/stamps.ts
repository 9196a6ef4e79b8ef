/**
 * PDF stamping (issue 19, point 2; decision 0026). When a product has "stamp PDFs" on, each
 * buyer's copy of each of its PDFs carries "Licensed to {email}, order {reference}" on every page
 * and an invisible trace id, which `tollgate trace` looks up.
 *
 * A copy is made once per buyer and version (asset and entitlement: a pdf_stamps row), in the
 * background: the payment's transaction queues the product's PDFs (queueStamps), a stamper claims
 * rows under a lease, so two processes never stamp one twice (the receipt queue's way), and
 * writes the copy to storage under its own key. Nothing else waits: the receipt and every other
 * file go as before, and a PDF asked for before its copy is ready answers "preparing your copy"
 * (stampedCopy). A copy that cannot be made is failed, the seller is alerted once, and its
 * downloads follow the product's choice: the original, or held.
 */
import { PostgresAdapter, sql } from "kysely";
import type { Asset, PdfStamp, Product } from "../../db/schema.ts";
import { alertSeller } from "../alerts.ts";
import { contentDisposition } from "../contentDisposition.ts";
import { type Ctx, db, sharedWrite } from "../context.ts";
import { type DrainLoop, drainLoop } from "../drainLoop.ts";
import { toHex } from "../encoding.ts";
import { AppError, notFound, unavailable } from "../errors.ts";
import { orderReference } from "../orders/reference.ts";
import type { Logger, ReceiptSender } from "../ports.ts";

/**
 * The largest PDF stamped. PDF libraries read the whole file: stamping holds the original once in
 * memory (the parsed objects point into it) plus the few kilobytes appended, then streams the
 * original again from storage into the copy. Larger files fail to stamp (the seller is alerted
 * and the product's choice applies). Sized for a Worker's 128 MB isolate.
 */
export const STAMP_MAX_BYTES = 32 * 1024 * 1024;
/** How long a stamper may hold a row; after that it is taken to have died. */
const LEASE_MS = 5 * 60_000;
/** A try that failed for the storage's sake waits this long; the third failure is final. */
const RETRY_AFTER_MS = 60_000;
const MAX_ATTEMPTS = 3;
/** Rows a pass claims at a time: stamped one after another (each holds a PDF in memory). */
const BATCH = 4;
/** How often the preparing page asks again. */
export const PREPARING_RETRY_SECONDS = 3;

export const isPdf = (asset: Pick<Asset, "content_type" | "filename">): boolean =>
  asset.content_type === "application/pdf" || /\.pdf$/i.test(asset.filename);

/** The error a PDF asked for before its copy is ready answers with: the preparing page. */
export function preparing(filename: string): AppError {
  return new AppError(
    "unavailable",
    `We are preparing your copy of ${filename}. It downloads by itself in a moment.`,
    { retryAfterSeconds: PREPARING_RETRY_SECONDS, preparing: true },
  );
}

export const isPreparing = (error: unknown): boolean =>
  error instanceof AppError && error.details?.preparing === true;

/**
 * Queues the stamped copies of a product's active PDFs for one entitlement, in the transaction
 * that granted it (the payment's): one statement, which writes nothing when the product does not
 * stamp. Tell the stamper after the commit (stampsQueued).
 */
export async function queueStamps(
  ctx: Ctx,
  input: { productId: string; entitlementId: string; orderId: string | null },
): Promise<void> {
  const now = ctx.clock.now();
  await db(ctx)
    .insertInto("pdf_stamps")
    .columns(["asset_id", "entitlement_id", "order_id", "status", "due_at", "created_at"])
    .expression((eb) =>
      eb
        .selectFrom("assets as a")
        .innerJoin("products as p", "p.id", "a.product_id")
        .select([
          "a.id",
          eb.val(input.entitlementId).as("entitlement_id"),
          eb.val(input.orderId).as("order_id"),
          eb.val("pending").as("status"),
          eb.val(now).as("due_at"),
          eb.val(now).as("created_at"),
        ])
        .where("a.product_id", "=", input.productId)
        .where("p.stamp_pdfs", "=", 1)
        .where("a.active", "=", 1)
        .where((w) =>
          w.or([
            w("a.content_type", "=", "application/pdf"),
            w(sql`lower(${sql.ref("a.filename")})`, "like", "%.pdf"),
          ]),
        ),
    )
    .onConflict((oc) => oc.columns(["asset_id", "entitlement_id"]).doNothing())
    .execute();
}

/** After the commit that queued copies: wakes the background stamper (Node); Workers' Cron stamps. */
export function stampsQueued(ctx: Ctx): void {
  ctx.stampSender?.wake();
}

/** The product's stamping, as the row the download was decided on has it. */
export type StampPolicy = Pick<Product, "stamp_pdfs" | "stamp_failure">;

/**
 * The file a buyer's download of `asset` delivers: the asset itself, unless its product stamps
 * PDFs and it is one; then the buyer's stamped copy when it is ready, or `preparing` (the copy is
 * queued now if it was not: a grant, a free claim, a file added after the purchase). A copy that
 * failed serves the original or is held, as the product says.
 */
export async function stampedCopy(
  ctx: Ctx,
  asset: Asset,
  buyer: { entitlementId: string },
  product: StampPolicy,
): Promise<Asset> {
  if (!isPdf(asset) || !product.stamp_pdfs) return asset;
  const row = await db(ctx)
    .selectFrom("pdf_stamps")
    .selectAll()
    .where("asset_id", "=", asset.id)
    .where("entitlement_id", "=", buyer.entitlementId)
    .executeTakeFirst();
  if (!row) {
    const order = await db(ctx)
      .selectFrom("entitlements")
      .select(["source", "source_ref"])
      .where("id", "=", buyer.entitlementId)
      .executeTakeFirst();
    const now = ctx.clock.now();
    await db(ctx)
      .insertInto("pdf_stamps")
      .values({
        asset_id: asset.id,
        entitlement_id: buyer.entitlementId,
        order_id: order?.source === "purchase" ? order.source_ref : null,
        status: "pending",
        trace_id: null,
        storage_key: null,
        size: null,
        sha256: null,
        due_at: now,
        lease_until: null,
        last_error: null,
        alerted_at: null,
        created_at: now,
        stamped_at: null,
      })
      .onConflict((oc) => oc.columns(["asset_id", "entitlement_id"]).doNothing())
      .execute();
    stampsQueued(ctx);
    throw preparing(asset.filename);
  }
  if (row.status === "ready" && row.storage_key && row.size !== null)
    return {
      ...asset,
      storage_key: row.storage_key,
      size: row.size,
      // The ETag (etagOf): this buyer's copy is not the original.
      sha256: `${asset.sha256}-${row.trace_id}`,
    };
  if (row.status === "failed") {
    if (product.stamp_failure === "original") return asset;
    throw unavailable(
      `Your copy of ${asset.filename} could not be prepared yet. The seller has been told; please try again later.`,
    );
  }
  throw preparing(asset.filename);
}

type Claimed = Pick<PdfStamp, "asset_id" | "entitlement_id" | "attempts">;

/**
 * One pass of the stamper: claims up to `limit` pending copies that are due and not held by a
 * live stamper (Postgres: FOR UPDATE SKIP LOCKED; SQLite has one writer), stamps them one after
 * another, and settles each while it still holds it. Says how many it claimed, stamped and failed.
 */
export async function stampQueued({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { limit?: number };
}): Promise<{ claimed: number; stamped: number; failed: number }> {
  const stamper = ctx.pdfStamper;
  if (!stamper) return { claimed: 0, stamped: 0, failed: 0 };
  const now = ctx.clock.now();
  const leaseUntil = now + LEASE_MS;
  const postgres = ctx.db.getExecutor().adapter instanceof PostgresAdapter;
  const claimed: Claimed[] = await sharedWrite(ctx, (tx) =>
    db(tx)
      .updateTable("pdf_stamps")
      .set({ lease_until: leaseUntil, attempts: sql<number>`attempts + 1` })
      .where((eb) =>
        eb(
          sql`asset_id || ' ' || entitlement_id`,
          "in",
          (() => {
            const due = eb
              .selectFrom("pdf_stamps")
              .select(sql<string>`asset_id || ' ' || entitlement_id`.as("k"))
              .where("status", "=", "pending")
              .where("due_at", "<=", now)
              .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]))
              .orderBy("due_at")
              .limit(input.limit ?? BATCH);
            return postgres ? due.forUpdate().skipLocked() : due;
          })(),
        ),
      )
      .where("status", "=", "pending")
      .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]))
      .returning(["asset_id", "entitlement_id", "attempts"])
      .execute(),
  );
  let stamped = 0;
  let failed = 0;
  for (const row of claimed) {
    const outcome = await stampOne(ctx, row);
    const settled = await settle(ctx, row, leaseUntil, outcome);
    if (settled === "ready") stamped++;
    if (settled === "failed") failed++;
  }
  return { claimed: claimed.length, stamped, failed };
}

type Outcome =
  | { kind: "ready"; traceId: string; storageKey: string; size: number }
  /** `final`: the file itself cannot be stamped; otherwise tried again (storage). */
  | { kind: "error"; reason: string; final: boolean };

/** Makes one copy: reads the original, stamps it, writes original + stamp under its own key. */
async function stampOne(ctx: Ctx, row: Claimed): Promise<Outcome> {
  const stamper = ctx.pdfStamper;
  if (!stamper) return { kind: "error", reason: "no PDF stamper in this process", final: false };
  const facts = await db(ctx)
    .selectFrom("pdf_stamps as s")
    .innerJoin("assets as a", "a.id", "s.asset_id")
    .innerJoin("entitlements as e", "e.id", "s.entitlement_id")
    .leftJoin("users as u", "u.id", "e.user_id")
    .leftJoin("orders as o", "o.id", "s.order_id")
    .select([
      "a.storage_key",
      "a.filename",
      "a.size",
      "a.content_type",
      "e.email",
      "u.email as user_email",
      "o.email as order_email",
      "s.order_id",
      "e.id as entitlement_id",
    ])
    .where("s.asset_id", "=", row.asset_id)
    .where("s.entitlement_id", "=", row.entitlement_id)
    .executeTakeFirst();
  if (!facts) return { kind: "error", reason: "the file or the purchase is gone", final: true };
  if (facts.size > STAMP_MAX_BYTES)
    return {
      kind: "error",
      reason: `the file is ${facts.size} bytes, over the ${STAMP_MAX_BYTES} bytes stamping takes`,
      final: true,
    };
  const email = facts.order_email ?? facts.email ?? facts.user_email ?? "";
  const reference = facts.order_id
    ? orderReference(facts.order_id)
    : `grant ${facts.entitlement_id}`;
  const traceId = toHex(ctx.crypto.randomBytes(16));
  let original: Uint8Array;
  try {
    original = await readAll(ctx, facts.storage_key);
  } catch (error) {
    return { kind: "error", reason: `storage: ${String(error)}`, final: false };
  }
  let appended: Uint8Array;
  try {
    appended = await stamper.stamp(original, {
      text: `Licensed to ${email}, order ${reference}`,
      traceId,
    });
  } catch (error) {
    return {
      kind: "error",
      reason: `not stamped: ${error instanceof Error ? error.message : String(error)}`,
      final: true,
    };
  }
  const storageKey = `stamped/${row.asset_id}/${traceId}`;
  try {
    // The original's bytes again, straight from storage, then the stamp: the copy is never
    // assembled in memory.
    const again = await ctx.store.get(facts.storage_key);
    if (!again) throw new Error("the original is missing");
    const { size } = await ctx.store.put(storageKey, followedBy(again.body, appended), {
      contentType: "application/pdf",
      contentDisposition: contentDisposition(facts.filename),
    });
    return { kind: "ready", traceId, storageKey, size };
  } catch (error) {
    return { kind: "error", reason: `storage: ${String(error)}`, final: false };
  }
}

/** Records what became of a claimed row, only while this stamper still holds it. */
async function settle(
  ctx: Ctx,
  row: Claimed,
  leaseUntil: number,
  outcome: Outcome,
): Promise<"ready" | "failed" | "retry" | "lost"> {
  const now = ctx.clock.now();
  const base = db(ctx)
    .updateTable("pdf_stamps")
    .where("asset_id", "=", row.asset_id)
    .where("entitlement_id", "=", row.entitlement_id)
    .where("lease_until", "=", leaseUntil);
  if (outcome.kind === "ready") {
    const done = await base
      .set({
        status: "ready",
        trace_id: outcome.traceId,
        storage_key: outcome.storageKey,
        size: outcome.size,
        lease_until: null,
        last_error: null,
        stamped_at: now,
      })
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) === 1) {
      ctx.log.info("PDF stamped", { assetId: row.asset_id, entitlementId: row.entitlement_id });
      return "ready";
    }
    // Another stamper took it over meanwhile: its copy is the one kept.
    await ctx.store.delete(outcome.storageKey).catch(() => {});
    return "lost";
  }
  const final = outcome.final || row.attempts >= MAX_ATTEMPTS;
  const done = await base
    .set(
      final
        ? { status: "failed", lease_until: null, last_error: outcome.reason.slice(0, 500) }
        : {
            lease_until: null,
            due_at: now + RETRY_AFTER_MS,
            last_error: outcome.reason.slice(0, 500),
          },
    )
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) !== 1) return "lost";
  ctx.log.error(final ? "PDF not stamped" : "PDF not stamped; tried again later", {
    assetId: row.asset_id,
    entitlementId: row.entitlement_id,
    error: outcome.reason,
  });
  if (!final) return "retry";
  await alertFailure(ctx, row, outcome.reason);
  return "failed";
}

/** Tells the seller, once per copy, that a buyer's PDF could not be stamped, and what follows. */
async function alertFailure(ctx: Ctx, row: Claimed, reason: string): Promise<void> {
  const claimedAlert = await db(ctx)
    .updateTable("pdf_stamps")
    .set({ alerted_at: ctx.clock.now() })
    .where("asset_id", "=", row.asset_id)
    .where("entitlement_id", "=", row.entitlement_id)
    .where("alerted_at", "is", null)
    .executeTakeFirst();
  if (Number(claimedAlert.numUpdatedRows) !== 1) return;
  const facts = await db(ctx)
    .selectFrom("pdf_stamps as s")
    .innerJoin("assets as a", "a.id", "s.asset_id")
    .innerJoin("products as p", "p.id", "a.product_id")
    .innerJoin("entitlements as e", "e.id", "s.entitlement_id")
    .select(["a.filename", "p.name", "p.slug", "p.stamp_failure", "e.email", "s.order_id"])
    .where("s.asset_id", "=", row.asset_id)
    .where("s.entitlement_id", "=", row.entitlement_id)
    .executeTakeFirst();
  if (!facts) return;
  await alertSeller(ctx, {
    title: `A buyer's copy of ${facts.filename} could not be stamped`,
    lead:
      facts.stamp_failure === "hold"
        ? "The product holds PDFs that cannot be stamped: this buyer cannot download the file until it is fixed (replace the file, or choose to serve the original)."
        : "The product serves the original when a PDF cannot be stamped: this buyer downloads the file without their stamp.",
    rows: [
      ["Product", facts.name],
      ["File", facts.filename],
      ["Buyer", facts.email ?? ""],
      ["Order", facts.order_id ? orderReference(facts.order_id) : "none (a grant)"],
      ["Why", reason],
    ],
    pageUrl: `/admin/products/${facts.slug}`,
  });
}

/** The whole object, refused past STAMP_MAX_BYTES. */
async function readAll(ctx: Ctx, key: string): Promise<Uint8Array> {
  const object = await ctx.store.get(key);
  if (!object) throw new Error("the original is missing");
  if (object.size > STAMP_MAX_BYTES) {
    await object.body.cancel().catch(() => {});
    throw new Error("too large to stamp");
  }
  const bytes = new Uint8Array(object.size);
  let at = 0;
  const reader = object.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.byteLength > bytes.byteLength) throw new Error("the object grew while read");
    bytes.set(value, at);
    at += value.byteLength;
  }
  return at === bytes.byteLength ? bytes : bytes.subarray(0, at);
}

/** A stream of `body` and then `tail`. */
function followedBy(
  body: ReadableStream<Uint8Array>,
  tail: Uint8Array,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (ended) return;
      const { done, value } = await reader.read();
      if (!done) return controller.enqueue(value);
      ended = true;
      controller.enqueue(tail);
      controller.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** What `tollgate trace` tells of a leaked copy. */
export interface TraceFinding {
  traceId: string;
  orderReference: string | null;
  orderId: string | null;
  email: string | null;
  product: { slug: string; name: string };
  filename: string;
  purchasedAt: number | null;
  stampedAt: number | null;
}

/**
 * Whose copy a PDF is: reads its trace id and looks it up. The seller only. Not found when the
 * file carries no trace id, or one this shop did not stamp.
 */
export async function traceCopy({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { pdf: Uint8Array };
}): Promise<TraceFinding> {
  if (!ctx.actor.admin) throw notFound("Only the seller can trace a copy.");
  if (!ctx.pdfStamper) throw unavailable("This process cannot read PDFs.");
  let traceId: string | null;
  try {
    traceId = await ctx.pdfStamper.readTrace(input.pdf);
  } catch (error) {
    throw notFound(`This file cannot be read as a PDF: ${(error as Error).message}`);
  }
  if (!traceId) throw notFound("This PDF carries no trace id: it is not a stamped copy.");
  const row = await db(ctx)
    .selectFrom("pdf_stamps as s")
    .innerJoin("assets as a", "a.id", "s.asset_id")
    .innerJoin("products as p", "p.id", "a.product_id")
    .innerJoin("entitlements as e", "e.id", "s.entitlement_id")
    .leftJoin("users as u", "u.id", "e.user_id")
    .leftJoin("orders as o", "o.id", "s.order_id")
    .select([
      "s.order_id",
      "s.stamped_at",
      "a.filename",
      "p.slug",
      "p.name",
      "e.email",
      "u.email as user_email",
      "o.email as order_email",
      "o.paid_at",
      "e.created_at as granted_at",
    ])
    .where("s.trace_id", "=", traceId)
    .executeTakeFirst();
  if (!row) throw notFound(`Trace id ${traceId} is not one of this shop's stamped copies.`);
  return {
    traceId,
    orderReference: row.order_id ? orderReference(row.order_id) : null,
    orderId: row.order_id,
    email: row.order_email ?? row.email ?? row.user_email,
    product: { slug: row.slug, name: row.name },
    filename: row.filename,
    purchasedAt: row.paid_at ?? row.granted_at,
    stampedAt: row.stamped_at,
  };
}

/** The Node runtime's stamper: drains the queue after each wake, one copy at a time. */
export function backgroundStamper(log: Logger): ReceiptSender & DrainLoop {
  return drainLoop({
    log,
    failure: "PDF stamper failed; the copies stay queued",
    drain: async (c, stopped) => {
      for (;;) {
        const { claimed } = await stampQueued({ ctx: c, input: { limit: 1 } });
        if (!claimed || stopped()) break;
      }
    },
  });
}
