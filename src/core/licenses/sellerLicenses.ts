import type { LicenseActivation } from "../../db/schema.ts";
import { heldBy, holderOf } from "../access/accessRule.ts";
import { findProductBySlug } from "../catalog/products.ts";
import { type Ctx, db, requireAdmin, withTransaction } from "../context.ts";
import { isoTime } from "../encoding.ts";
import { notFound } from "../errors.ts";
import { type InputOf, limitSchema, parseInput } from "../validate.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";
import * as z from "../zod.ts";
import { licenseData, recordDeactivations } from "./activations.ts";
import { activationsOf, type LicenseFacts, licenseState, loadLicenses } from "./licenseState.ts";
import { licenseKeySchema, resetSchema, setLimitSchema } from "./schemas.ts";

export const listSchema = z.object({
  email: z.optional(z.string().check(z.trim(), z.maxLength(320))),
  product: z.optional(z.string().check(z.trim(), z.maxLength(64))),
  /** The key a buyer pasted into a support mail, in any case or spacing. */
  key: z.optional(licenseKeySchema),
  limit: limitSchema,
});

/** Every key (of one buyer, product or key, when asked), newest first, with its activations. */
export async function listLicenses({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof listSchema>;
}): Promise<SellerLicense[]> {
  requireAdmin(ctx);
  const { email, product, key, limit } = parseInput(listSchema, input);
  let query = db(ctx)
    .selectFrom("licenses")
    .innerJoin("entitlements", "entitlements.id", "licenses.entitlement_id")
    .select("licenses.entitlement_id")
    .orderBy("licenses.created_at", "desc")
    .limit(limit);
  if (email) query = query.where(heldBy(await holderOf(ctx, email)));
  if (key) query = query.where("licenses.key", "=", key);
  if (product) {
    const found = await findProductBySlug(ctx, product);
    if (!found) return [];
    query = query.where("licenses.product_id", "=", found.id);
  }
  const ids = (await query.execute()).map((r) => r.entitlement_id);
  return withDetails(ctx, await loadLicenses(ctx, { entitlementIds: ids }));
}

/** The keys an order's access carries, for the order page. */
export async function licensesOfEntitlements(ctx: Ctx, entitlementIds: string[]) {
  requireAdmin(ctx);
  if (!entitlementIds.length) return [];
  return withDetails(ctx, await loadLicenses(ctx, { entitlementIds }));
}

export async function getLicense({ ctx, input }: { ctx: Ctx; input: { id: string } }) {
  requireAdmin(ctx);
  const [license] = await withDetails(ctx, [await findLicense(ctx, input.id)]);
  return license as SellerLicense;
}

/** One customer's own activation limit (null: the product's again). */
export async function setLicenseLimit({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: string; changes: InputOf<typeof setLimitSchema> };
}) {
  requireAdmin(ctx);
  const { activationLimit } = parseInput(setLimitSchema, input.changes);
  const facts = await findLicense(ctx, input.id);
  await db(ctx)
    .updateTable("licenses")
    .set({ activation_limit: activationLimit, updated_at: ctx.clock.now() })
    .where("id", "=", facts.license.id)
    .execute();
  ctx.log.info("licence limit changed", { licenseId: facts.license.id, activationLimit });
  return getLicense({ ctx, input: { id: facts.license.id } });
}

/** Frees one activation (by id or fingerprint), or all of them. */
export async function resetLicense({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: string; changes: InputOf<typeof resetSchema> };
}) {
  requireAdmin(ctx);
  const { activation } = parseInput(resetSchema, input.changes);
  const facts = await findLicense(ctx, input.id);
  const freed = await withTransaction(ctx, async (tx) => {
    let query = db(tx).deleteFrom("license_activations").where("license_id", "=", facts.license.id);
    if (activation)
      query = query.where((eb) =>
        eb.or([eb("id", "=", activation), eb("fingerprint", "=", activation)]),
      );
    const rows = await query.returning("fingerprint").execute();
    await recordDeactivations(tx, facts, rows, "seller");
    return rows.length;
  });
  if (activation && freed === 0) throw notFound("This licence has no such activation.");
  ctx.log.info("licence activations freed", { licenseId: facts.license.id, freed, by: "seller" });
  return { freed, license: await getLicense({ ctx, input: { id: facts.license.id } }) };
}

/** Stops a key for good, whatever its access; downloads are the entitlement's business. */
export async function revokeLicense({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: string; reason?: unknown };
}) {
  requireAdmin(ctx);
  const facts = await findLicense(ctx, input.id);
  const now = ctx.clock.now();
  const reason =
    (typeof input.reason === "string" && input.reason.trim().slice(0, 200)) ||
    "revoked by the seller";
  await withTransaction(ctx, async (tx) => {
    const revoked = await db(tx)
      .updateTable("licenses")
      .set({ revoked_at: now, revoked_reason: reason, updated_at: now })
      .where("id", "=", facts.license.id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (Number(revoked.numUpdatedRows) > 0)
      await recordWebhookEvent(tx, "license.revoked", licenseData(facts, { reason }), {
        productId: facts.product.id,
      });
  });
  ctx.log.info("licence revoked", { licenseId: facts.license.id, reason });
  return getLicense({ ctx, input: { id: facts.license.id } });
}

async function findLicense(ctx: Ctx, id: string): Promise<LicenseFacts> {
  const [facts] = typeof id === "string" && id.length <= 64 ? await loadLicenses(ctx, { id }) : [];
  if (!facts) throw notFound("There is no such licence.");
  return facts;
}

export type SellerLicense = Awaited<ReturnType<typeof withDetails>>[number];

/** What the seller sees of each key: owner, order, standing and every activation. */
async function withDetails(ctx: Ctx, licenses: LicenseFacts[]) {
  const activations = await activationsOf(
    ctx,
    licenses.map((l) => l.license.id),
  );
  const subscriptions = licenses
    .filter((l) => l.entitlement.source === "subscription")
    .map((l) => l.entitlement.source_ref);
  const orders = subscriptions.length
    ? await db(ctx)
        .selectFrom("orders")
        .select(["id", "subscription_id"])
        .where("subscription_id", "in", subscriptions)
        .orderBy("created_at")
        .execute()
    : [];
  const now = ctx.clock.now();
  return licenses.map((facts) => {
    const { license, entitlement: e, product } = facts;
    const state = licenseState(facts, now);
    const mine = activations.filter((a) => a.license_id === license.id);
    return {
      id: license.id,
      key: license.key,
      product: { slug: product.slug, name: product.name },
      owner: { email: e.email, userId: e.user_id },
      entitlementId: e.id,
      orderId:
        e.source === "purchase"
          ? e.source_ref
          : (orders.find((o) => o.subscription_id === e.source_ref)?.id ?? null),
      source: e.source,
      status: state.status,
      reason: license.revoked_reason ?? state.reason,
      expiresAt: isoTime(state.expiresAt),
      activationLimit: state.activationLimit,
      ownLimit: license.activation_limit !== null,
      activationCount: mine.length,
      activations: mine.map(sellerActivationJson),
      createdAt: isoTime(license.created_at),
      revokedAt: isoTime(license.revoked_at),
    };
  });
}

export const sellerActivationJson = (a: LicenseActivation) => ({
  id: a.id,
  fingerprint: a.fingerprint,
  label: a.label,
  ip: a.ip,
  firstSeenAt: isoTime(Number(a.first_seen_at)),
  lastSeenAt: isoTime(Number(a.last_seen_at)),
});
