import type { Ctx } from "../context.ts";
import { db, newId } from "../context.ts";

/** Crockford's base 32: no I, L, O or U, so a key read aloud or retyped survives. */
const DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A new key: 125 random bits as five groups of five digits, e.g. `7KQ2M-...`. */
export function newLicenseKey(ctx: Pick<Ctx, "crypto">): string {
  const bytes = ctx.crypto.randomBytes(16);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let key = "";
  for (let i = 0; i < 25; i++) {
    key += DIGITS[Number(bits & 31n)];
    bits >>= 5n;
    if (i % 5 === 4 && i < 24) key += "-";
  }
  return key;
}

/**
 * Issues the key of a new entitlement when its product has licences on, in the caller's
 * transaction (the one that grants access): one statement that inserts nothing for other
 * products. An entitlement has at most one key (unique), so a retried grant never makes two.
 */
export async function issueLicense(
  ctx: Ctx,
  entitlement: { id: string; product_id: string },
): Promise<void> {
  const now = ctx.clock.now();
  await db(ctx)
    .insertInto("licenses")
    .columns(["id", "key", "entitlement_id", "product_id", "created_at", "updated_at"])
    .expression((eb) =>
      eb
        .selectFrom("products")
        .select([
          eb.val(newId(ctx, "lic")).as("id"),
          eb.val(newLicenseKey(ctx)).as("key"),
          eb.val(entitlement.id).as("entitlement_id"),
          "products.id as product_id",
          eb.val(now).as("created_at"),
          eb.val(now).as("updated_at"),
        ])
        .where("products.id", "=", entitlement.product_id)
        .where("products.license_enabled", "=", 1),
    )
    .onConflict((oc) => oc.column("entitlement_id").doNothing())
    .execute();
}

/**
 * Keys for the active entitlements of a product that had none (licences just turned on), so
 * buyers from before get theirs too. In the caller's transaction.
 */
export async function issueMissingLicenses(ctx: Ctx, productId: string): Promise<number> {
  const missing = await db(ctx)
    .selectFrom("entitlements as e")
    .leftJoin("licenses as l", "l.entitlement_id", "e.id")
    .select(["e.id", "e.product_id"])
    .where("e.product_id", "=", productId)
    .where("e.status", "=", "active")
    .where("l.id", "is", null)
    .execute();
  for (const e of missing) await issueLicense(ctx, e);
  return missing.length;
}
