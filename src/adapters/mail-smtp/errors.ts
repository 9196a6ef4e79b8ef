import { MailFailure } from "../../core/ports.ts";
import { type SmtpServer, serverName } from "./url.ts";

/** What nodemailer puts on its errors, as far as we read it. */
interface NodemailerFailure {
  code?: string;
  originalCode?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  rejected?: string[];
  message?: string;
}

export type SmtpFailure =
  | "auth"
  | "connection"
  | "timeout"
  | "dns"
  | "tls"
  | "sender"
  | "recipient"
  | "message"
  | "other";

/**
 * A failed SMTP exchange, said in words a seller can act on; never carries the password.
 * Permanent (the port's bounce) when the server refused the recipient with a 5xx reply.
 */
export class SmtpError extends MailFailure {
  override readonly name = "SmtpError";
  constructor(
    readonly failure: SmtpFailure,
    message: string,
    permanent = false,
  ) {
    super(message, permanent);
  }
}

/** Turns a nodemailer error into an SmtpError naming what failed, with the password scrubbed. */
export function explainSmtpError(error: unknown, server: SmtpServer): SmtpError {
  const e = (typeof error === "object" && error !== null ? error : {}) as NodemailerFailure;
  const where = `SMTP server ${serverName(server)}`;
  const reply = e.response ? `: ${e.response}` : e.message ? `: ${e.message}` : "";
  const [failure, text] = classify(e, where, reply, server);
  return new SmtpError(failure, scrub(text, server.pass), refusedForGood(failure, e));
}

/**
 * The recipient's mailbox will never take the message: a 5xx reply to RCPT TO, or a 5xx to the
 * message whose enhanced status names the mailbox (5.1.x: no such address; 5.2.1: disabled), as
 * servers that check recipients after DATA say. A 4xx is temporary, and a 5xx about the sender,
 * the login or the content is the shop's to fix, not the buyer's address: those are retried.
 */
function refusedForGood(failure: SmtpFailure, e: NodemailerFailure): boolean {
  const code = e.responseCode ?? Number(/^\s*(\d{3})\b/.exec(e.response ?? "")?.[1]);
  if (!(code >= 500 && code < 600)) return false;
  if (failure === "recipient") return true;
  return failure === "message" && /^\s*5\d\d[ -]5\.(?:1\.\d{1,3}|2\.1)\b/.test(e.response ?? "");
}

function classify(
  e: NodemailerFailure,
  where: string,
  reply: string,
  server: SmtpServer,
): [SmtpFailure, string] {
  const low = e.originalCode ?? e.code;
  switch (e.code) {
    case "EAUTH":
      return [
        "auth",
        `${where} refused the login${server.user ? ` for user "${server.user}"` : ""} (check the user and password in MAIL_URL)${reply}`,
      ];
    case "ENOAUTH":
      return ["auth", `${where} needs a login: put user:password in MAIL_URL${reply}`];
    case "EDNS":
      return ["dns", `${where} not found: the host name does not resolve (${low})`];
    case "ETIMEDOUT":
      return ["timeout", `${where} did not answer in time (${e.message ?? "timeout"})`];
    case "ETLS":
      return ["tls", `TLS with ${where} failed${reply}`];
    case "EENVELOPE":
      if (e.rejected?.length)
        return ["recipient", `${where} rejected the recipient ${e.rejected.join(", ")}${reply}`];
      return e.command === "MAIL FROM"
        ? ["sender", `${where} rejected the sender address (MAIL_FROM)${reply}`]
        : ["recipient", `${where} rejected the envelope${reply}`];
    case "EMESSAGE":
      return ["message", `${where} rejected the message${reply}`];
    case "ESOCKET":
    case "ECONNECTION":
      if (low === "ECONNREFUSED")
        return ["connection", `${where} refused the connection (nothing listens on that port?)`];
      if (low === "ETIMEDOUT")
        return ["timeout", `${where} did not answer in time (${e.message ?? "timeout"})`];
      if (/certificate|SSL|TLS|wrong version/i.test(e.message ?? ""))
        return ["tls", `TLS with ${where} failed: ${e.message}`];
      return ["connection", `connection to ${where} failed${reply}`];
    default:
      return ["other", `sending through ${where} failed${reply}`];
  }
}

/** The password never leaves in a message, even if a server echoes it back. */
function scrub(text: string, secret: string | null): string {
  if (!secret) return text;
  return text.split(secret).join("***").split(encodeURIComponent(secret)).join("***");
}
