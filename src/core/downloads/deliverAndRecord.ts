/**
 * The one path every download takes, whatever proved the right to it (downloadAsUser.ts: a
 * session; downloadWithToken.ts: a link; downloadWithCheckout.ts: a checkout session id): open
 * the file (deliver.ts), continue an open download or count a new one (continuations.ts), log it,
 * and count it against the product's download limit when it has one (limits.ts).
 */
import type { Asset } from "../../db/schema.ts";
import { type Ctx, db, newTimeOrderedId, withSharedCommit } from "../context.ts";
import { type StampPolicy, stampedCopy } from "../stamping/stamps.ts";
import {
  bytesOf,
  continuationBytes,
  continueDownload,
  giveBack,
  IN_FLIGHT_ALLOWANCE,
  metered,
  RESUME_WINDOW_MS,
} from "./continuations.ts";
import {
  abandonDelivery,
  type Delivery,
  type DeliveryRequest,
  prepareDelivery,
} from "./deliver.ts";
import { countDownload, type LimitedFile, limitReached, requireDownloadLeft } from "./limits.ts";
import { checkSharing } from "./sharing.ts";

export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

export interface DownloadRecord {
  entitlementId: string;
  assetId: string;
  tokenId?: string | null;
  userId?: string | null;
  client: ClientInfo;
  /** The link it comes through (`token:`, `user:` or `order:` and an id); see DownloadsTable. */
  link: string;
  /** The product's downloads per file per buyer, from the row the download was decided on. */
  limit?: number | null;
  /** The product's PDF stamping, from the same row (decision 0026). */
  stamp: StampPolicy;
  /** The entitlement's sharing flag, from the row the download was decided on (sharing.ts). */
  sharingFlaggedAt?: number | null;
}

/** The log row of a download whose first response hands out `taken` bytes of the file. */
function downloadRow(ctx: Ctx, record: DownloadRecord, asset: Asset, taken: number) {
  const now = ctx.clock.now();
  return {
    id: newTimeOrderedId(ctx, "dl"),
    entitlement_id: record.entitlementId,
    asset_id: record.assetId,
    token_id: record.tokenId ?? null,
    user_id: record.userId ?? null,
    ip: record.client.ip?.slice(0, 64) ?? null,
    user_agent: record.client.userAgent?.slice(0, 300) ?? null,
    created_at: now,
    link: record.link,
    bytes_left: Math.max(0, asset.size - taken),
    resumable_until: now + RESUME_WINDOW_MS,
    resume_allowance: Math.min(IN_FLIGHT_ALLOWANCE, asset.size),
  };
}

/** Logs a download whose first response hands out `taken` bytes of the file; returns its id. */
export async function recordDownload(
  ctx: Ctx,
  record: DownloadRecord,
  asset: Asset,
  taken: number,
): Promise<string> {
  const row = downloadRow(ctx, record, asset, taken);
  await db(ctx).insertInto("downloads").values(row).execute();
  return row.id;
}

/** A download through a link, which uses up one of its uses. */
export interface CountedUse {
  tokenId: string;
  /** Whether the link has a limit of uses: each use is then counted before the answer. */
  limited: boolean;
  /** False when the link has no use left: only a continuation can then be served. */
  available: boolean;
  /** Counts the use in the transaction that logs the download; false when none was left. */
  count(tx: Ctx): Promise<boolean>;
  /** The answer when a new download is needed and the link has no use left. */
  refusal(): Error;
}

/**
 * Opens an authorized file. A range that fits in what an open download of the same file through
 * the same link has left continues it, counting and logging nothing; anything else is a new
 * download, counted against the link's uses (`use`) and logged. A HEAD or an unsatisfiable range
 * opens, counts and logs nothing. Under a product's download limit (limits.ts) a new download or
 * a HEAD is refused once none is left; a stream counts when it sends the file's last byte, a
 * signed URL when it is handed out.
 */
export async function deliverAndRecord(
  ctx: Ctx,
  original: Asset,
  request: DeliveryRequest,
  record: DownloadRecord,
  use?: CountedUse,
): Promise<Delivery> {
  const startedAt = ctx.clock.now();
  // A PDF of a product that stamps them: this buyer's copy, or "preparing" (decision 0026).
  const asset = await stampedCopy(
    ctx,
    original,
    { entitlementId: record.entitlementId },
    record.stamp,
  );
  const limited: LimitedFile | null =
    record.limit == null
      ? null
      : { entitlementId: record.entitlementId, asset, limit: record.limit };
  if (request.headOnly) {
    if (use && !use.available) throw use.refusal();
    if (limited) await requireDownloadLeft(ctx, limited);
    await checkSharing(ctx, record, { record: false });
    return { kind: "head", asset };
  }
  const wanted = continuationBytes(ctx, asset, request);
  const continued =
    wanted === null
      ? null
      : await continueDownload(ctx, { link: record.link, assetId: asset.id, bytes: wanted });
  if (continued === null && use && !use.available) throw use.refusal();
  // A continuation rides on a download that was let in; a signed URL is counted as it is made.
  const streamed = ctx.settings.delivery.mode !== "redirect";
  if (continued === null && limited && streamed) await requireDownloadLeft(ctx, limited);
  // A continuation is no new evidence, nor a new download to ask about.
  if (continued === null) await checkSharing(ctx, record, { record: true });
  let delivery: Delivery;
  try {
    delivery = await prepareDelivery(ctx, asset, request);
  } catch (error) {
    if (continued !== null && wanted !== null) await giveBack(ctx, continued, wanted);
    throw error;
  }
  // A stream that sends the file's last byte is a completed download: counted then, or cut off.
  const lastByte = limited
    ? async () =>
        (await countDownload(ctx, limited, startedAt)) ? null : limitReached(ctx, limited)
    : undefined;
  if (continued !== null) return metered(ctx, delivery, continued, lastByte);
  if (delivery.kind === "unsatisfiable") return delivery;
  const countNow = limited !== null && delivery.kind === "redirect";
  if (delivery.kind === "redirect" && !use?.limited && !countNow && ctx.downloadLog && !ctx.trx) {
    // Nothing is decided on this row (a signed URL is never continued): it may land after the
    // answer, batched (decision 0010). A limited link's use is counted before, below.
    const row = downloadRow(ctx, record, asset, asset.size);
    ctx.downloadLog.add({ row, useOf: use?.tokenId ?? null });
    return delivery;
  }
  const opened = delivery;
  let outcome: string | Error | typeof NONE_LEFT;
  try {
    // Counting the use (and, for a signed URL, the limited download) and logging it commit
    // together, a commit other downloads may share.
    outcome = await withSharedCommit(ctx, async (tx) => {
      if (countNow && !(await countDownload(tx, limited, startedAt))) return NONE_LEFT;
      if (use && !(await use.count(tx))) {
        // Thrown, not returned, once the download was counted: the count rolls back with it.
        if (countNow) throw use.refusal();
        return use.refusal();
      }
      return recordDownload(tx, record, asset, bytesOf(opened));
    });
  } catch (error) {
    await abandonDelivery(delivery);
    throw error;
  }
  if (outcome === NONE_LEFT && limited) outcome = await limitReached(ctx, limited);
  if (typeof outcome !== "string") {
    await abandonDelivery(delivery);
    throw outcome;
  }
  return metered(ctx, delivery, outcome, lastByte);
}

/** The limit allowed no other download: the refusal is worded after the commit. */
const NONE_LEFT = Symbol("none left");
