import type { Entitlement } from "../../db/schema.ts";
import {
  accessStatus,
  entitlementsOf,
  type Holder,
  holderOf,
  isActive,
} from "../access/accessRule.ts";
import { type Ctx, db, requireAdmin, requireUser } from "../context.ts";
import { isoTime } from "../encoding.ts";
import { licensesOf } from "./buyerLicenses.ts";

/**
 * What a customer has right now, for the seller's own app: each product they have had access to
 * with its standing (`owned` while access works) and end date, and their licences.
 */
export async function customerState(ctx: Ctx, holder: Holder) {
  const now = ctx.clock.now();
  const entitlements = await entitlementsOf(ctx, holder);
  const products = await db(ctx)
    .selectFrom("products")
    .select(["id", "slug", "name"])
    .where("id", "in", entitlements.length ? entitlements.map((e) => e.product_id) : [""])
    .execute();
  const best = new Map<string, Entitlement>();
  for (const e of entitlements) {
    const kept = best.get(e.product_id);
    if (!kept || rank(e, now) > rank(kept, now)) best.set(e.product_id, e);
  }
  const licenses = await licensesOf(ctx, holder);
  return {
    email: holder.email,
    products: products.map((p) => {
      const e = best.get(p.id) as Entitlement;
      return {
        product: p.slug,
        name: p.name,
        owned: isActive(e, now),
        status: accessStatus(e, now),
        source: e.source,
        startsAt: isoTime(e.starts_at),
        endsAt: isoTime(e.ends_at),
      };
    }),
    licenses: licenses.map((l) => ({
      id: l.id,
      key: l.key,
      product: l.product.slug,
      status: l.status,
      expiresAt: isoTime(l.expiresAt),
      activations: l.activations.length,
      activationLimit: l.activationLimit,
    })),
  };
}

/** Of several entitlements to one product, the one that tells most: a working one first. */
const rank = (e: Entitlement, now: number) =>
  (isActive(e, now) ? 4 : e.status === "suspended" ? 2 : 0) + (e.ends_at ?? Infinity) / 1e15;

export async function stateOfCustomer({ ctx, input }: { ctx: Ctx; input: { email: string } }) {
  requireAdmin(ctx);
  return customerState(ctx, await holderOf(ctx, String(input.email).slice(0, 320)));
}

export function myState({ ctx }: { ctx: Ctx }) {
  const user = requireUser(ctx);
  return customerState(ctx, { userId: user.id, email: user.email });
}
