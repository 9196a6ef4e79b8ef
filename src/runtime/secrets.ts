import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Config, SigningKey } from "../config.ts";

export interface EmbeddedSecrets {
  sessionSecret: string;
  adminToken: string;
  /** Signs the local Stripe's webhooks when STRIPE_WEBHOOK_SECRET is not set. */
  localStripeWebhookSecret: string;
  /** Signs offline licence files when LICENSE_SIGNING_KEY is not set. */
  licenseSigningKey: SigningKey;
}

/** The folder of the SQLite file, where the embedded shape keeps generated secrets. */
export function dataDir(config: Config): string | null {
  if (config.database.dialect !== "sqlite") return null;
  const filename = config.database.url.slice("sqlite:".length);
  return filename === ":memory:" ? null : dirname(resolve(filename));
}

/**
 * The embedded shape keeps its generated secrets beside its database, so a restart keeps signed
 * URLs, the admin token and the local Stripe's webhook secret valid. Written with mode 0600;
 * a secret missing from an older file is added, the others kept. Never logged except the admin
 * token, which `npm start` prints for the local seller.
 */
export function loadOrCreateSecrets(dataDir: string): EmbeddedSecrets {
  const file = join(dataDir, "secrets.json");
  let saved: Partial<EmbeddedSecrets> = {};
  try {
    saved = JSON.parse(readFileSync(file, "utf8")) as Partial<EmbeddedSecrets>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new Error(`${file} is not readable JSON; delete it to start over`);
    }
  }
  const secrets: EmbeddedSecrets = {
    sessionSecret: saved.sessionSecret ?? randomBytes(32).toString("hex"),
    adminToken: saved.adminToken ?? `tga_${randomBytes(24).toString("base64url")}`,
    localStripeWebhookSecret:
      saved.localStripeWebhookSecret ?? `whsec_${randomBytes(32).toString("base64")}`,
    licenseSigningKey: saved.licenseSigningKey ?? newSigningKey(),
  };
  const changed = (Object.keys(secrets) as (keyof EmbeddedSecrets)[]).some(
    (k) => saved[k] !== secrets[k],
  );
  if (changed)
    writeFileSync(file, `${JSON.stringify({ ...saved, ...secrets }, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/** A new Ed25519 private key as a JWK (`tollgate license keygen` prints one). */
export function newSigningKey(): SigningKey {
  const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
  return { kty: "OKP", crv: "Ed25519", x: jwk.x as string, d: jwk.d as string };
}
