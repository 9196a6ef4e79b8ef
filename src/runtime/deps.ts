import { sql } from "kysely";
import { httpMailer } from "../adapters/mail-http/index.ts";
import { outboxMailer } from "../adapters/mail-outbox/index.ts";
import { joseLicenseSigner } from "../adapters/signing-jose/index.ts";
import { pdfLibStamper } from "../adapters/stamper-pdflib/index.ts";
import type { LocalObjectStore } from "../adapters/storage-local/index.ts";
import type { Config, SigningKey } from "../config.ts";
import type { Deps } from "../core/context.ts";
import { toHex } from "../core/encoding.ts";
import type { Identity, Mailer, MailTransport, ObjectStore } from "../core/ports.ts";
import { rateCounter } from "../core/rateCounter.ts";
import { defaultShopProfile, readShopProfile } from "../core/shop/profile.ts";
import type { Db } from "../db/schema.ts";
import type { AppDeps } from "../http/env.ts";
import { renderingMailer } from "../mail/index.ts";
import { mailShop } from "../mail/layout.ts";

/** What each runtime opens its own way (driver, storage, crypto, ...) before the shared wiring. */
export interface RuntimeParts extends Omit<Deps, "settings" | "mailer" | "identity" | "counters"> {
  /** Sends rendered mail; the core's Mailer renders in front of it. */
  mailer: MailTransport;
  /** The identity provider config.auth names, given the core's Mailer (the built-in one mails). */
  identity: (mailer: Mailer) => Identity;
  sessionSecret: string;
  adminToken?: string;
  /** The embedded shape's generated licence signing key, used when config has none. */
  generatedSigningKey?: SigningKey;
  localFiles?: LocalObjectStore;
  clientIp: AppDeps["clientIp"];
  fromThisMachine: AppDeps["fromThisMachine"];
  diagnose?: AppDeps["diagnose"];
  readRawBody?: AppDeps["readRawBody"];
}

/** The core's and the app's dependencies from the config and one runtime's adapters. */
export async function assembleDeps(
  config: Config,
  parts: RuntimeParts,
): Promise<{ deps: Deps; appDeps: AppDeps }> {
  const {
    sessionSecret,
    adminToken,
    localFiles,
    clientIp,
    fromThisMachine,
    diagnose,
    readRawBody,
    identity,
    generatedSigningKey,
    ...core
  } = parts;
  // Derived under its first use's name, so tokens signed before the rename stay good.
  const linkSecret = toHex(await core.crypto.hmacSha256(sessionSecret, "direct-uploads"));
  const settings: Deps["settings"] = {
    publicUrl: config.publicUrl,
    shopName: config.shopName,
    delivery: config.delivery,
    maxUploadBytes: config.maxUploadBytes,
    linkSecret,
    adminEmails: config.adminEmails,
    refundRevokesAccess: config.refundRevokesAccess,
    sharing: config.sharing,
    checkout: config.checkout,
    webhookAllowPrivateUrls: config.webhookAllowPrivateUrls,
    releaseMailRate: config.releaseMailRate,
    downloadReminderAfterMs: config.downloadReminderAfterMs,
    licenseRateLimit: config.licenseRateLimit,
    licenseSigningKeyKept: !!config.licenseSigningKeys || !!generatedSigningKey,
  };
  // The core says which mail goes with what facts; src/mail words it, the transport sends it.
  const mailer = renderingMailer(core.mailer, async () =>
    mailShop(
      await readShopProfile({ db: core.db, settings }).catch(() =>
        defaultShopProfile(settings.shopName),
      ),
      settings.publicUrl,
    ),
  );
  const signingKeys = config.licenseSigningKeys ?? [
    generatedSigningKey ?? (await derivedSigningKey(core.crypto, sessionSecret)),
  ];
  const deps: Deps = {
    ...core,
    licenseSigner: await joseLicenseSigner(signingKeys),
    // Loads its PDF library on first use (decision 0026).
    pdfStamper: core.pdfStamper ?? pdfLibStamper(),
    mailer,
    identity: identity(mailer),
    settings,
    counters: rateCounter(),
  };
  const appDeps: AppDeps = {
    ...deps,
    ...(adminToken ? { adminToken } : {}),
    ...(localFiles ? { localFiles } : {}),
    ...(diagnose ? { diagnose } : {}),
    ...(readRawBody ? { readRawBody } : {}),
    ready: () => readiness(core.db, core.store),
    devOutbox: config.mail.kind === "outbox",
    clientIp,
    fromThisMachine,
  };
  return { deps, appDeps };
}

/**
 * A licence signing key derived from the session secret, for a shop with neither
 * LICENSE_SIGNING_KEY nor a data folder to keep a generated one: every process derives the same
 * key. `doctor` asks for a key of its own, since a new session secret would change it.
 */
async function derivedSigningKey(crypto: Deps["crypto"], secret: string): Promise<SigningKey> {
  const seed = await crypto.hmacSha256(secret, "licence-signing-key");
  // PKCS #8 of an Ed25519 private key (RFC 8410) is this prefix and the 32-byte seed.
  const prefix = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04];
  const pkcs8 = new Uint8Array([...prefix, 0x22, 0x04, 0x20, ...seed]);
  const key = await globalThis.crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", true, ["sign"]);
  const jwk = await globalThis.crypto.subtle.exportKey("jwk", key);
  return { kty: "OKP", crv: "Ed25519", x: jwk.x as string, d: jwk.d as string };
}

/** The outbox, or the HTTP mail API; SMTP is the Node runtime's own (it needs sockets). */
export function openWebMailer(
  config: Config,
  deps: Parameters<typeof outboxMailer>[0],
): MailTransport | null {
  const { kind, url, from, apiKey } = config.mail;
  if (kind === "http") return httpMailer({ url, from, apiKey: apiKey ?? "" });
  if (kind === "outbox") return outboxMailer(deps);
  return null;
}

async function readiness(db: Db, store: ObjectStore) {
  const check = async (name: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      return { name, ok: true };
    } catch (error) {
      return { name, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  };
  return Promise.all([
    check("database", () => sql`select 1`.execute(db)),
    check("storage", () => store.check()),
  ]);
}
