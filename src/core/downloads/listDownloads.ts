import { type Ctx, db, requireAdmin } from "../context.ts";
import { limitSchema, parseInput } from "../validate.ts";

/** The download log, newest first, optionally for one email: for the seller. */
export async function listDownloads({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit?: number | string | undefined; email?: string };
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
      "p.name as product_name",
    ])
    .orderBy("d.created_at", "desc")
    .limit(parseInput(limitSchema, input.limit));
  if (input.email) query = query.where("e.email", "=", input.email.trim().toLowerCase());
  return query.execute();
}
