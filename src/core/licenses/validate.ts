import type { LicenseActivation } from "../../db/schema.ts";
import { type Ctx, db, sharedWrite } from "../context.ts";
import { cachedRead } from "../readCache.ts";
import { type InputOf, parseInput } from "../validate.ts";
import type { AppClient } from "./activations.ts";
import {
  activationJson,
  activationsOf,
  licenseByKey,
  licenseState,
  publicLicenseJson,
  unknownKey,
} from "./licenseState.ts";
import { hitLicenseLimits } from "./limits.ts";
import { validateSchema } from "./schemas.ts";

/** A machine's last-seen time moves on at most this often from validations. */
const SEEN_EVERY_MS = 60_000;

/**
 * Whether a key works now, and on this machine when a fingerprint is given: `valid` with `code`
 * "valid", or the reason it is not ("refunded", "disputed", "revoked", "expired",
 * "not_activated"). Reads only, through the read cache (never more than a second behind a
 * refund or a revocation); a validation counts no use and takes no activation.
 */
export async function validateLicense({
  ctx,
  input,
  client,
}: {
  ctx: Ctx;
  input: InputOf<typeof validateSchema>;
  client: AppClient;
}) {
  const { key, fingerprint } = parseInput(validateSchema, input);
  hitLicenseLimits(ctx, client.ip, key);
  const facts = await licenseByKey(ctx, key);
  if (!facts) throw unknownKey();
  const now = ctx.clock.now();
  const activations = await cachedRead(ctx, `activations:${facts.license.id}`, () =>
    activationsOf(ctx, [facts.license.id]),
  );
  const license = publicLicenseJson(facts, activations.length, now);
  const state = licenseState(facts, now);
  const machine =
    fingerprint === undefined ? undefined : activations.find((a) => a.fingerprint === fingerprint);
  let code: string = state.status === "active" ? "valid" : state.status;
  if (code === "valid" && fingerprint !== undefined && !machine) code = "not_activated";
  if (machine && code === "valid") await seen(ctx, machine, now);
  return {
    valid: code === "valid",
    code,
    ...(state.reason ? { reason: state.reason } : {}),
    ...(code === "not_activated" ? { reason: "This machine has not been activated." } : {}),
    license,
    ...(machine ? { activation: activationJson(machine) } : {}),
  };
}

/** Moves the machine's last-seen time on, at most once a minute, sharing its commit. */
async function seen(ctx: Ctx, machine: LicenseActivation, now: number): Promise<void> {
  if (now - Number(machine.last_seen_at) < SEEN_EVERY_MS) return;
  machine.last_seen_at = now;
  await sharedWrite(ctx, (c) =>
    db(c)
      .updateTable("license_activations")
      .set({ last_seen_at: now })
      .where("id", "=", machine.id)
      .where("last_seen_at", "<", now - SEEN_EVERY_MS)
      .execute(),
  );
}
