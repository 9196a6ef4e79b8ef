/**
 * The one path every download takes, whatever proved the right to it (downloadAsUser.ts: a
 * session; downloadWithToken.ts: a link; downloadWithCheckout.ts: a checkout session id): open
 * the file (deliver.ts), continue an open download or count a new one (continuations.ts), log it.
 */
import type { Asset } from "../../db/schema.ts";
import { type Ctx, db, newTimeOrderedId, withSharedCommit } from "../context.ts";
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
 * opens, counts and logs nothing.
 */
export async function deliverAndRecord(
  ctx: Ctx,
  asset: Asset,
  request: DeliveryRequest,
  record: DownloadRecord,
  use?: CountedUse,
): Promise<Delivery> {
  if (request.headOnly) {
    if (use && !use.available) throw use.refusal();
    return { kind: "head", asset };
  }
  const wanted = continuationBytes(ctx, asset, request);
  const continued =
    wanted === null
      ? null
      : await continueDownload(ctx, { link: record.link, assetId: asset.id, bytes: wanted });
  if (continued === null && use && !use.available) throw use.refusal();
  let delivery: Delivery;
  try {
    delivery = await prepareDelivery(ctx, asset, request);
  } catch (error) {
    if (continued !== null && wanted !== null) await giveBack(ctx, continued, wanted);
    throw error;
  }
  if (continued !== null) return metered(ctx, delivery, continued);
  if (delivery.kind === "unsatisfiable") return delivery;
  if (delivery.kind === "redirect" && !use?.limited && ctx.downloadLog && !ctx.trx) {
    // Nothing is decided on this row (a signed URL is never continued): it may land after the
    // answer, batched (decision 0010). A limited link's use is counted before, below.
    const row = downloadRow(ctx, record, asset, asset.size);
    ctx.downloadLog.add({ row, useOf: use?.tokenId ?? null });
    return delivery;
  }
  const opened = delivery;
  let outcome: string | Error;
  try {
    // Counting the use and logging it commit together, a commit other downloads may share.
    outcome = await withSharedCommit(ctx, async (tx) =>
      use && !(await use.count(tx))
        ? use.refusal()
        : recordDownload(tx, record, asset, bytesOf(opened)),
    );
  } catch (error) {
    await abandonDelivery(delivery);
    throw error;
  }
  if (outcome instanceof Error) {
    await abandonDelivery(delivery);
    throw outcome;
  }
  return metered(ctx, delivery, outcome);
}
