import type { Asset } from "../../db/schema.ts";
import { type Ctx, db, newId, requireAdmin, sharedWrite } from "../context.ts";
import {
  abandonDelivery,
  type Delivery,
  type DeliveryRequest,
  isContinuation,
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
}

export async function recordDownload(ctx: Ctx, record: DownloadRecord): Promise<void> {
  const row = {
    id: newId(ctx, "dl"),
    entitlement_id: record.entitlementId,
    asset_id: record.assetId,
    token_id: record.tokenId ?? null,
    user_id: record.userId ?? null,
    ip: record.client.ip?.slice(0, 64) ?? null,
    user_agent: record.client.userAgent?.slice(0, 300) ?? null,
    created_at: ctx.clock.now(),
  };
  await sharedWrite(ctx, (tx) => db(tx).insertInto("downloads").values(row).execute());
}

export async function listDownloads({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit?: number; email?: string };
}) {
  requireAdmin(ctx);
  let query = db(ctx)
    .selectFrom("downloads as d")
    .innerJoin("entitlements as e", "e.id", "d.entitlement_id")
    .innerJoin("assets as a", "a.id", "d.asset_id")
    .innerJoin("products as p", "p.id", "a.product_id")
    .select([
      "d.id",
      "d.created_at",
      "d.ip",
      "d.user_agent",
      "d.token_id",
      "d.user_id",
      "e.email",
      "e.id as entitlement_id",
      "a.id as asset_id",
      "a.filename",
      "p.slug as product_slug",
    ])
    .orderBy("d.created_at", "desc")
    .limit(Math.min(input.limit ?? 100, 1000));
  if (input.email) query = query.where("e.email", "=", input.email.trim().toLowerCase());
  return query.execute();
}

/**
 * Opens an authorized file and logs the download; a HEAD, an unsatisfiable range or a later range
 * of a download already logged opens or logs nothing new.
 */
export async function deliverAndRecord(
  ctx: Ctx,
  asset: Asset,
  request: DeliveryRequest,
  record: DownloadRecord,
): Promise<Delivery> {
  if (request.headOnly) return { kind: "head", asset };
  const delivery = await prepareDelivery(ctx, asset, request);
  if (delivery.kind === "unsatisfiable" || isContinuation(ctx, asset, request)) return delivery;
  try {
    await recordDownload(ctx, record);
  } catch (error) {
    await abandonDelivery(delivery);
    throw error;
  }
  return delivery;
}
