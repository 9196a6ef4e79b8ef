import { join } from "node:path";
import { smtpMailer } from "../adapters/mail-smtp/index.ts";
import type { Config } from "../config.ts";
import { isLoopbackAddress } from "./clientAddress.ts";
import { isLocal, type PlatformChecks, type Say } from "./diagnose.ts";
import { dataDir } from "./secrets.ts";

/**
 * What `doctor` checks on Node beyond the shared checks: the SMTP login, where it listens, and
 * where a generated licence signing key is kept.
 */
export const nodeChecks: PlatformChecks = {
  smtp: checkSmtp,
  more: checkNetwork,
  generatedKeyFile: (config) => {
    const dir = dataDir(config);
    return dir ? join(dir, "secrets.json") : null;
  },
};

/** Connects and logs in without sending. */
async function checkSmtp(config: Config): Promise<string> {
  const { url, from } = config.mail;
  const smtp = smtpMailer({ url, from });
  try {
    await smtp.verify();
    return smtp.user
      ? `SMTP server ${smtp.server} answers and accepts the login for "${smtp.user}"; mail from ${from}`
      : `SMTP server ${smtp.server} answers (no login in MAIL_URL); mail from ${from}`;
  } finally {
    smtp.close();
  }
}

/** Where `serve` listens, and whose address the per-client limits count. */
function checkNetwork(config: Config, say: Say) {
  const { host, trustProxy } = config;
  const beyondLoopback = host !== "localhost" && !isLoopbackAddress(host);
  if (beyondLoopback && config.mail.kind === "outbox")
    say(
      "warn",
      "network",
      `HOST ${host} listens beyond this machine while mail goes to the outbox: buyers get no mail, and sign-in links are readable at /dev/outbox from this machine and by admins only. Set MAIL_URL, or HOST=127.0.0.1`,
    );
  else
    say(
      "ok",
      "network",
      beyondLoopback ? `listening on ${host}` : `listening on ${host} (this machine only)`,
    );
  if (trustProxy)
    say(
      "ok",
      "network",
      "hops" in trustProxy
        ? `TRUST_PROXY: the client is named by the last ${trustProxy.hops} proxy hop(s) of X-Forwarded-For`
        : `TRUST_PROXY: X-Forwarded-For is believed from ${trustProxy.addresses.join(", ")}`,
    );
  else if (!isLocal(config.publicUrl))
    // Node serves plain HTTP, so an https PUBLIC_URL means a proxy terminates TLS in front of it.
    say(
      new URL(config.publicUrl).protocol === "https:" ? "warn" : "ok",
      "network",
      "TRUST_PROXY is not set: each client is the socket's address. Behind a load balancer or reverse proxy, set TRUST_PROXY (e.g. 1) or every buyer shares one rate limit",
    );
}
