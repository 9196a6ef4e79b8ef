import { sql } from "kysely";
import type { Asset } from "../../db/schema.ts";
import { type Ctx, db, sharedWrite } from "../context.ts";
import { parseRange } from "../delivery/range.ts";
import { unavailable } from "../errors.ts";
import { type Delivery, type DeliveryRequest, etagOf } from "./deliver.ts";

/**
 * How long a download stays open to later ranges after its last range began or broke off: enough
 * for a browser or download manager to resume after a dropped connection, a laptop's sleep or a
 * slow link's stall, short enough that a link passed on later finds nothing to ride on. The bytes,
 * not the time, are the hard bound: a download's ranges never total more than its file.
 */
export const RESUME_WINDOW_MS = 30 * 60 * 1000;

/**
 * What a broken-off transfer may get back beyond the bytes it never handed to the socket: the
 * server counts a byte as sent once the kernel takes it, and what sat in socket buffers (Linux
 * grows a send buffer to 4 MiB, plus our 1 MiB chunk and the proxy's) never reached the client,
 * so without this a real resume would ask for more than is left. Once per download, in all: a
 * counted use never hands out more than its file and this.
 */
export const IN_FLIGHT_ALLOWANCE = 8 * 1024 * 1024;

/**
 * The bytes this request asks for when it may continue a download: one range past the first
 * byte, of the version the client started on. Never in redirect mode: each signed URL hands out
 * the whole file again, so every URL the app issues is a download of its own.
 */
export function continuationBytes(ctx: Ctx, asset: Asset, request: DeliveryRequest): number | null {
  if (ctx.settings.delivery.mode === "redirect") return null;
  if (request.ifRange && request.ifRange !== etagOf(asset)) return null;
  const range = parseRange(request.range, asset.size);
  if (range.kind !== "partial" || range.range.start === 0) return null;
  return range.range.end - range.range.start + 1;
}

/** The bytes a delivery hands out: its range, or the whole file (behind a signed URL too). */
export function bytesOf(delivery: Delivery): number {
  if (delivery.kind === "stream" && delivery.object.range) {
    return delivery.object.range.end - delivery.object.range.start + 1;
  }
  return delivery.asset.size;
}

/**
 * Takes `bytes` from an open download of this file through this link and returns its id, or
 * null when none has that many left. The check and the subtraction are one update, so ranges
 * sent at once, to any process, never take more than the download has.
 */
export async function continueDownload(
  ctx: Ctx,
  input: { link: string; assetId: string; bytes: number },
): Promise<string | null> {
  const now = ctx.clock.now();
  const open = await db(ctx)
    .selectFrom("downloads")
    .select("id")
    .where("link", "=", input.link)
    .where("asset_id", "=", input.assetId)
    .where("resumable_until", ">", now)
    .where("bytes_left", ">=", input.bytes)
    .orderBy("bytes_left", "desc")
    .limit(3)
    .execute();
  for (const { id } of open) {
    const taken = await sharedWrite(ctx, (tx) =>
      db(tx)
        .updateTable("downloads")
        .set((eb) => ({
          bytes_left: eb("bytes_left", "-", input.bytes),
          resumable_until: now + RESUME_WINDOW_MS,
        }))
        .where("id", "=", id)
        .where("resumable_until", ">", now)
        .where("bytes_left", ">=", input.bytes)
        .executeTakeFirst(),
    );
    if (Number(taken.numUpdatedRows) === 1) return id;
  }
  return null;
}

/**
 * Gives a download back bytes it took but never sent, plus, when a transfer broke off after
 * `inFlight` bytes went to the socket, what of those the allowance still covers; keeps it open
 * for the resume.
 */
export async function giveBack(
  ctx: Ctx,
  downloadId: string,
  bytes: number,
  inFlight = 0,
): Promise<void> {
  if (bytes <= 0 && inFlight <= 0) return;
  const now = ctx.clock.now();
  const allowed = sql<number>`case when coalesce(resume_allowance, 0) < ${inFlight} then coalesce(resume_allowance, 0) else ${inFlight} end`;
  await sharedWrite(ctx, (tx) =>
    db(tx)
      .updateTable("downloads")
      .set({
        bytes_left: sql`bytes_left + ${bytes} + ${allowed}`,
        resume_allowance: sql`coalesce(resume_allowance, 0) - ${allowed}`,
        resumable_until: now + RESUME_WINDOW_MS,
      })
      .where("id", "=", downloadId)
      .execute(),
  );
}

/**
 * The delivery with a body that counts what the client reads and, when it stops early, gives the
 * rest back to the download, so a resume from where the transfer broke fits in what is left.
 * Only bytes the client asked for count as sent (no read-ahead here). With `lastByte` (a product's
 * download limit, limits.ts), the chunk that holds the file's last byte is handed over only once
 * lastByte counted the download; when it answers with a refusal the transfer breaks off there.
 */
export function metered(
  ctx: Ctx,
  delivery: Delivery,
  downloadId: string,
  lastByte?: () => Promise<Error | null>,
): Delivery {
  if (delivery.kind !== "stream") return delivery;
  const length = bytesOf(delivery);
  const reader = delivery.object.body.getReader();
  const { range } = delivery.object;
  let toCount = lastByte && (!range || range.end === delivery.asset.size - 1) ? lastByte : null;
  const count = async () => {
    if (!toCount) return;
    const counting = toCount;
    toCount = null;
    let refusal: Error | null;
    try {
      refusal = await counting();
    } catch (error) {
      ctx.log.error("could not count a limited download", { downloadId, error: String(error) });
      refusal = unavailable("The download could not be finished. Please try again in a minute.");
    }
    if (refusal) {
      await reader.cancel().catch(() => {});
      throw refusal;
    }
  };
  let sent = 0;
  let givenBack = false;
  // Once only: a cancel while a read is pending also fails that read's pull, and a second give
  // back would let the resume take the file again.
  const giveBackUnsent = async () => {
    if (givenBack) return;
    givenBack = true;
    await giveBack(ctx, downloadId, length - sent, sent).catch((error) =>
      ctx.log.warn("could not give back unsent bytes", { downloadId, error: String(error) }),
    );
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            if (sent >= length) await count();
            return controller.close();
          }
          if (toCount && sent + value.byteLength >= length) await count();
          sent += value.byteLength;
          controller.enqueue(value);
        } catch (error) {
          await giveBackUnsent();
          throw error;
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
        await giveBackUnsent();
      },
    },
    { highWaterMark: 0 },
  );
  return { ...delivery, object: { ...delivery.object, body } };
}
