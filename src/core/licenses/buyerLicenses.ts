import { entitlementsOf, type Holder, holds } from "../access/accessRule.ts";
import { type Ctx, db, requireUser, withTransaction } from "../context.ts";
import { notFound } from "../errors.ts";
import { recordDeactivations } from "./activations.ts";
import { activationJson, activationsOf, licenseState, loadLicenses } from "./licenseState.ts";

/** The keys a holder's entitlements carry, each with its standing and activations. */
export async function licensesOf(ctx: Ctx, holder: Holder) {
  const entitlements = await entitlementsOf(ctx, holder);
  const licenses = await loadLicenses(ctx, { entitlementIds: entitlements.map((e) => e.id) });
  const activations = await activationsOf(
    ctx,
    licenses.map((l) => l.license.id),
  );
  const now = ctx.clock.now();
  return licenses.map((facts) => {
    const state = licenseState(facts, now);
    const mine = activations.filter((a) => a.license_id === facts.license.id);
    return {
      id: facts.license.id,
      key: facts.license.key,
      product: { slug: facts.product.slug, name: facts.product.name },
      status: state.status,
      reason: state.reason,
      expiresAt: state.expiresAt,
      activationLimit: state.activationLimit,
      activations: mine.map(activationJson),
    };
  });
}

export type BuyerLicense = Awaited<ReturnType<typeof licensesOf>>[number];

/** The signed-in buyer's keys (the library shows them). */
export function myLicenses({ ctx }: { ctx: Ctx }) {
  const user = requireUser(ctx);
  return licensesOf(ctx, { userId: user.id, email: user.email });
}

/**
 * The buyer frees one of their own activations (a machine they reinstalled or sold), without
 * asking the seller. Someone else's licence or activation is "not found", as unknown ones are.
 */
export async function freeMyActivation({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { licenseId: string; activationId: string };
}): Promise<void> {
  const user = requireUser(ctx);
  const [facts] =
    typeof input.licenseId === "string" && input.licenseId.length <= 64
      ? await loadLicenses(ctx, { id: input.licenseId })
      : [];
  if (!facts || !holds({ userId: user.id, email: user.email }, facts.entitlement))
    throw notFound("There is no such licence in your library.");
  const freed = await withTransaction(ctx, async (tx) => {
    const rows = await db(tx)
      .deleteFrom("license_activations")
      .where("license_id", "=", facts.license.id)
      .where("id", "=", String(input.activationId))
      .returning("fingerprint")
      .execute();
    await recordDeactivations(tx, facts, rows, "buyer");
    return rows.length;
  });
  if (freed === 0) throw notFound("This machine is no longer activated on your licence.");
  ctx.log.info("licence deactivated", { licenseId: facts.license.id, by: "the buyer" });
}
