import { sql } from "kysely";
import { httpMailer } from "../adapters/mail-http/index.ts";
import { outboxMailer } from "../adapters/mail-outbox/index.ts";
import type { LocalObjectStore } from "../adapters/storage-local/index.ts";
import type { Config } from "../config.ts";
import type { Deps } from "../core/context.ts";
import { toHex } from "../core/encoding.ts";
import type { Identity, Mailer, MailTransport, ObjectStore } from "../core/ports.ts";
import type { Db } from "../db/schema.ts";
import type { AppDeps } from "../http/env.ts";
import { renderingMailer } from "../mail/index.ts";

/** What each runtime opens its own way (driver, storage, crypto, ...) before the shared wiring. */
export interface RuntimeParts extends Omit<Deps, "settings" | "mailer" | "identity"> {
  /** Sends rendered mail; the core's Mailer renders in front of it. */
  mailer: MailTransport;
  /** The identity provider config.auth names, given the core's Mailer (the built-in one mails). */
  identity: (mailer: Mailer) => Identity;
  sessionSecret: string;
  adminToken?: string;
  localFiles?: LocalObjectStore;
  clientIp: AppDeps["clientIp"];
  fromThisMachine: AppDeps["fromThisMachine"];
  diagnose?: AppDeps["diagnose"];
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
    identity,
    ...core
  } = parts;
  const uploadSecret = toHex(await core.crypto.hmacSha256(sessionSecret, "direct-uploads"));
  const settings: Deps["settings"] = {
    publicUrl: config.publicUrl,
    shopName: config.shopName,
    delivery: config.delivery,
    maxUploadBytes: config.maxUploadBytes,
    uploadSecret,
    adminEmails: config.adminEmails,
    refundRevokesAccess: config.refundRevokesAccess,
  };
  // The core says which mail goes with what facts; src/mail words it, the transport sends it.
  const mailer = renderingMailer(core.mailer, settings);
  const deps: Deps = { ...core, mailer, identity: identity(mailer), settings };
  const appDeps: AppDeps = {
    ...deps,
    ...(adminToken ? { adminToken } : {}),
    ...(localFiles ? { localFiles } : {}),
    ...(diagnose ? { diagnose } : {}),
    ready: () => readiness(core.db, core.store),
    devOutbox: config.mail.kind === "outbox",
    clientIp,
    fromThisMachine,
  };
  return { deps, appDeps };
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
