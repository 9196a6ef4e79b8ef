import type { ConnectionOptions } from "node:tls";
import nodemailer from "nodemailer";
import type { MailTransport } from "../../core/ports.ts";
import { explainSmtpError } from "./errors.ts";
import { parseSmtpUrl, serverName } from "./url.ts";

export { SmtpError, type SmtpFailure } from "./errors.ts";

export interface SmtpMailer extends MailTransport {
  /** `host:port`, for messages. */
  readonly server: string;
  readonly user: string | null;
  /** Connects, greets and logs in without sending anything: doctor's check. */
  verify(): Promise<void>;
  /** Closes the pooled connections; a message being sent finishes first. */
  close(): void;
}

// A sign-in request waits on its mail, so an unreachable server must fail in seconds, not minutes.
const TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
  dnsTimeout: 10_000,
};

/**
 * Mail through an SMTP server: `smtp://user:pass@host:587` (STARTTLS whenever the server offers
 * it, and a failed upgrade fails the send) or `smtps://user:pass@host:465` (TLS from the start).
 * Connections are pooled, so a burst of receipts reuses them; they close after a few idle seconds,
 * which keeps a CLI command from waiting on an open socket.
 */
export function smtpMailer(opts: {
  url: string;
  from: string;
  /** For a relay with a private certificate authority (e.g. `{ ca }`). */
  tls?: ConnectionOptions;
}): SmtpMailer {
  const server = parseSmtpUrl(opts.url);
  const transport = nodemailer.createTransport(
    {
      pool: true,
      maxConnections: 3,
      idleTimeout: 5_000,
      host: server.host,
      port: server.port,
      secure: server.secure,
      // forceAuth: configured credentials are always tried, so a server that does not offer AUTH
      // says so instead of relaying (or refusing) unauthenticated mail later.
      ...(server.user
        ? { auth: { user: server.user, pass: server.pass ?? "" }, forceAuth: true }
        : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...TIMEOUTS,
      // Our messages are plain strings; never let one make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    },
    { from: opts.from },
  );
  return {
    server: serverName(server),
    user: server.user,
    async send({ to, replyTo, subject, text, html, headers }) {
      try {
        await transport.sendMail({
          to,
          subject,
          text,
          html,
          ...(replyTo ? { replyTo } : {}),
          ...(headers ? { headers } : {}),
        });
      } catch (error) {
        throw explainSmtpError(error, server);
      }
    },
    async verify() {
      try {
        await transport.verify();
      } catch (error) {
        throw explainSmtpError(error, server);
      }
    },
    close() {
      transport.close();
    },
  };
}
