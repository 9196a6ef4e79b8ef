import { type Ctx, db, newId, withTransaction } from "../context.ts";
import { AppError } from "../errors.ts";
import { type InputOf, parseInput } from "../validate.ts";
import { recordWebhookEvent } from "../webhooks/events.ts";
import {
  activationJson,
  activationsOf,
  type LicenseFacts,
  licenseByKey,
  licenseState,
  publicLicenseJson,
  unknownKey,
} from "./licenseState.ts";
import { hitLicenseLimits } from "./limits.ts";
import { activateSchema, deactivateSchema } from "./schemas.ts";

/** Who is asking, for the limits and the seller's view of an activation. */
export interface AppClient {
  ip: string | null;
}

/**
 * The seller's app activates a key on one machine. The same fingerprint again is the same
 * activation (its last-seen time moves on), so a reinstall or a retry never uses another one;
 * a new fingerprint takes one if the limit allows, else 409 `activation_limit` naming those in
 * use. Concurrent requests for one key queue on the licence row, so the count is exact.
 */
export async function activateLicense({
  ctx,
  input,
  client,
}: {
  ctx: Ctx;
  input: InputOf<typeof activateSchema>;
  client: AppClient;
}) {
  const { key, fingerprint, label } = parseInput(activateSchema, input);
  hitLicenseLimits(ctx, client.ip, key);
  return withTransaction(ctx, async (tx) => {
    const facts = await lockLicense(tx, key);
    refuseUnlessActive(facts, ctx.clock.now());
    const activation = await takeActivation(tx, facts, { fingerprint, label, ip: client.ip });
    const count = await countActivations(tx, facts.license.id);
    return {
      activation: activationJson(activation),
      license: publicLicenseJson(facts, count, ctx.clock.now()),
    };
  });
}

/** Frees one machine's activation; freeing one that is not there is not an error. */
export async function deactivateLicense({
  ctx,
  input,
  client,
}: {
  ctx: Ctx;
  input: InputOf<typeof deactivateSchema>;
  client: AppClient;
}) {
  const { key, fingerprint } = parseInput(deactivateSchema, input);
  hitLicenseLimits(ctx, client.ip, key);
  return withTransaction(ctx, async (tx) => {
    const facts = await lockLicense(tx, key);
    const freed = await db(tx)
      .deleteFrom("license_activations")
      .where("license_id", "=", facts.license.id)
      .where("fingerprint", "=", fingerprint)
      .returning("fingerprint")
      .execute();
    await recordDeactivations(tx, facts, freed, "app");
    const deactivated = freed.length > 0;
    if (deactivated)
      ctx.log.info("licence deactivated", { licenseId: facts.license.id, by: "the app" });
    const count = await countActivations(tx, facts.license.id);
    return { deactivated, license: publicLicenseJson(facts, count, ctx.clock.now()) };
  });
}

/**
 * Reads the licence inside the caller's transaction after taking its row's write lock (an
 * update that changes nothing of substance), so activations of one key run one at a time on
 * Postgres as on SQLite, and each sees the ones before it.
 */
export async function lockLicense(tx: Ctx, key: string): Promise<LicenseFacts> {
  const locked = await db(tx)
    .updateTable("licenses")
    .set((eb) => ({ updated_at: eb.ref("updated_at") }))
    .where("key", "=", key)
    .executeTakeFirst();
  if (Number(locked.numUpdatedRows) === 0) throw unknownKey();
  const facts = await licenseByKey(tx, key, { fresh: true });
  if (!facts) throw unknownKey();
  return facts;
}

/** 403 with the reason when the licence does not work now. */
export function refuseUnlessActive(facts: LicenseFacts, now: number): void {
  const state = licenseState(facts, now);
  if (state.status !== "active")
    throw new AppError("forbidden", state.reason ?? "This licence does not work now.", {
      answer: { code: state.status, reason: state.status },
    });
}

/** The machine's activation: the one it has, or a new one if the limit allows. */
export async function takeActivation(
  tx: Ctx,
  facts: LicenseFacts,
  machine: { fingerprint: string; label?: string | undefined; ip: string | null },
) {
  const now = tx.clock.now();
  const licenseId = facts.license.id;
  const existing = await db(tx)
    .selectFrom("license_activations")
    .selectAll()
    .where("license_id", "=", licenseId)
    .where("fingerprint", "=", machine.fingerprint)
    .executeTakeFirst();
  if (existing) {
    const seen = {
      last_seen_at: now,
      ip: machine.ip ?? existing.ip,
      label: machine.label ?? existing.label,
    };
    await db(tx)
      .updateTable("license_activations")
      .set(seen)
      .where("id", "=", existing.id)
      .execute();
    return { ...existing, ...seen };
  }
  const limit = licenseState(facts, now).activationLimit;
  if (limit !== null) {
    const inUse = await activationsOf(tx, [licenseId]);
    if (inUse.length >= limit)
      throw new AppError(
        "conflict",
        `This licence is already active on ${inUse.length} of ${limit} machines. Deactivate one (in the app or your library) to use it here.`,
        {
          answer: {
            code: "activation_limit",
            activationLimit: limit,
            activations: inUse.length,
            inUse: inUse.map(activationJson),
          },
        },
      );
  }
  const activation = {
    id: newId(tx, "act"),
    license_id: licenseId,
    fingerprint: machine.fingerprint,
    label: machine.label ?? null,
    ip: machine.ip,
    first_seen_at: now,
    last_seen_at: now,
  };
  await db(tx).insertInto("license_activations").values(activation).execute();
  await recordWebhookEvent(
    tx,
    "license.activated",
    licenseData(facts, {
      activationId: activation.id,
      fingerprint: machine.fingerprint,
      label: activation.label,
    }),
    { productId: facts.product.id },
  );
  tx.log.info("licence activated", { licenseId, activationId: activation.id });
  return activation;
}

export async function countActivations(ctx: Ctx, licenseId: string): Promise<number> {
  const row = await db(ctx)
    .selectFrom("license_activations")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("license_id", "=", licenseId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** What the license.* events tell (docs/webhooks.md): never the key itself. */
/**
 * One license.deactivated event per machine freed, in the transaction that freed it, whoever freed
 * it: the app (`by` "app"), the buyer from their library, or the seller.
 */
export async function recordDeactivations(
  tx: Ctx,
  facts: LicenseFacts,
  freed: { fingerprint: string }[],
  by: "app" | "buyer" | "seller",
): Promise<void> {
  for (const { fingerprint } of freed)
    await recordWebhookEvent(tx, "license.deactivated", licenseData(facts, { fingerprint, by }), {
      productId: facts.product.id,
    });
}

export function licenseData(facts: LicenseFacts, extra: Record<string, unknown> = {}) {
  return {
    licenseId: facts.license.id,
    entitlementId: facts.entitlement.id,
    email: facts.entitlement.email,
    userId: facts.entitlement.user_id,
    ...extra,
  };
}
