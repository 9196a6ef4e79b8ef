import type { DeliveryToken, Entitlement } from "../../db/schema.ts";
import { type Ctx, db } from "../context.ts";
import {
  activeEntitlementOf,
  findToken,
  invalidLink,
  startUseWindow,
  usedUp,
} from "../delivery/tokens.ts";
import { notFound } from "../errors.ts";
import type { Delivery, DeliveryRequest } from "./deliver.ts";
import { type ClientInfo, deliverAndRecord } from "./deliverAndRecord.ts";
import { downloadableFile } from "./limits.ts";

/**
 * Downloads one file through a token link. Checks the token, the entitlement and the file, opens
 * the delivery, then counts the use atomically and logs the download; a later byte range that
 * continues a download of this link is not counted again (see deliverAndRecord).
 */
export async function downloadWithToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { token: string; assetId: string; request: DeliveryRequest; client: ClientInfo };
}): Promise<Delivery> {
  const { token, entitlement } = await findUsableToken(ctx, input.token);
  if (token.asset_id && token.asset_id !== input.assetId) throw noSuchFile();
  const { asset, limit, stamp } = await downloadableFile(
    ctx,
    entitlement.product_id,
    input.assetId,
  );
  // A link that ends a while after its first use starts counting at its first download.
  if (!input.request.headOnly) await startUseWindow(ctx, token);
  return deliverAndRecord(
    ctx,
    asset,
    input.request,
    {
      entitlementId: entitlement.id,
      assetId: asset.id,
      tokenId: token.id,
      userId: entitlement.user_id,
      client: input.client,
      link: `token:${token.id}`,
      limit,
      stamp,
      sharingFlaggedAt: entitlement.sharing_flagged_at,
    },
    {
      tokenId: token.id,
      limited: token.max_uses !== null,
      available: token.max_uses === null || token.uses < token.max_uses,
      count: async (tx) => {
        const counted = await db(tx)
          .updateTable("delivery_tokens")
          .set((eb) => ({ uses: eb("uses", "+", 1) }))
          .where("id", "=", token.id)
          .where("revoked_at", "is", null)
          .where("expires_at", ">", tx.clock.now())
          .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
          .executeTakeFirst();
        return Number(counted.numUpdatedRows) === 1;
      },
      refusal: usedUp,
    },
  );
}

async function findUsableToken(
  ctx: Ctx,
  raw: string,
): Promise<{ token: DeliveryToken; entitlement: Entitlement }> {
  const token = await findToken(ctx, raw);
  const now = ctx.clock.now();
  if (!token || token.revoked_at !== null || token.expires_at <= now) throw invalidLink();
  return { token, entitlement: await activeEntitlementOf(ctx, token, now) };
}

const noSuchFile = () => notFound("There is no such file.");
