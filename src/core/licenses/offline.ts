import { type Ctx, withTransaction } from "../context.ts";
import { unavailable } from "../errors.ts";
import { type InputOf, parseInput } from "../validate.ts";
import { type AppClient, lockLicense, refuseUnlessActive, takeActivation } from "./activations.ts";
import { licenseState } from "./licenseState.ts";
import { hitLicenseLimits } from "./limits.ts";
import { offlineSchema } from "./schemas.ts";

/** How long a licence file works before the app must fetch a new one, unless access ends first. */
export const OFFLINE_DAYS = 30;

/**
 * A licence file for a machine that checks its licence without calling us: a compact JWS
 * (EdDSA) whose claims name the licence (`sub`), the product and the fingerprint, valid 30 days
 * and never past the access's end. The machine is activated as by activate (same limit, same
 * refusals), so a file is only ever issued for a machine the licence counts.
 */
export async function offlineLicense({
  ctx,
  input,
  client,
}: {
  ctx: Ctx;
  input: InputOf<typeof offlineSchema>;
  client: AppClient;
}) {
  const { key, fingerprint } = parseInput(offlineSchema, input);
  hitLicenseLimits(ctx, client.ip, key);
  const signer = ctx.licenseSigner;
  if (!signer)
    throw unavailable(
      "This shop cannot issue licence files yet: its licence signing key is not set up.",
    );
  const { facts, activation } = await withTransaction(ctx, async (tx) => {
    const facts = await lockLicense(tx, key);
    refuseUnlessActive(facts, ctx.clock.now());
    return { facts, activation: await takeActivation(tx, facts, { fingerprint, ip: client.ip }) };
  });
  const now = ctx.clock.now();
  const accessEnds = licenseState(facts, now).expiresAt;
  const expiresAt = Math.min(now + OFFLINE_DAYS * 86_400_000, accessEnds ?? Infinity);
  const token = await signer.sign({
    iss: ctx.settings.publicUrl,
    sub: facts.license.id,
    iat: Math.floor(now / 1000),
    exp: Math.floor(expiresAt / 1000),
    product: facts.product.slug,
    fingerprint,
    activation: activation.id,
    ...(accessEnds !== null ? { accessEndsAt: Math.floor(accessEnds / 1000) } : {}),
  });
  ctx.log.info("licence file issued", { licenseId: facts.license.id, activationId: activation.id });
  return { token, expiresAt };
}
