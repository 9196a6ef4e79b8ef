import { type SmtpServer, serverName } from "./url.ts";

/** What nodemailer puts on its errors, as far as we read it. */
interface NodemailerFailure {
  code?: string;
  originalCode?: string;
  command?: string;
  response?: string;
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

/** A failed SMTP exchange, said in words a seller can act on; never carries the password. */
export class SmtpError extends Error {
  override readonly name = "SmtpError";
  constructor(
    readonly failure: SmtpFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Turns a nodemailer error into an SmtpError naming what failed, with the password scrubbed. */
export function explainSmtpError(error: unknown, server: SmtpServer): SmtpError {
  const e = (typeof error === "object" && error !== null ? error : {}) as NodemailerFailure;
  const where = `SMTP server ${serverName(server)}`;
  const reply = e.response ? `: ${e.response}` : e.message ? `: ${e.message}` : "";
  const [failure, text] = classify(e, where, reply, server);
  return new SmtpError(failure, scrub(text, server.pass));
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
