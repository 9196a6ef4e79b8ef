import { toBase64Url } from "../../core/encoding.ts";
import type { Clock, Crypto, Db, Logger, MailTransport } from "../../core/ports.ts";

/**
 * Development mail: every message is kept in the database (shown at /dev/outbox and by
 * GET /api/admin/outbox) and its text is printed to the log, so links can be followed offline.
 */
export function outboxMailer(deps: {
  db: Db;
  clock: Clock;
  crypto: Crypto;
  log: Logger;
}): MailTransport {
  return {
    async send(message) {
      await deps.db
        .insertInto("outbox")
        .values({
          id: `msg_${toBase64Url(deps.crypto.randomBytes(12))}`,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          created_at: deps.clock.now(),
        })
        .execute();
      deps.log.info(`mail to ${message.to}: ${message.subject}`, { text: `${message.text}\n` });
    },
  };
}

export interface OutboxMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  createdAt: string;
}

export async function readOutbox(
  db: Db,
  opts: { to?: string; limit?: number } = {},
): Promise<OutboxMessage[]> {
  let query = db
    .selectFrom("outbox")
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(opts.limit ?? 50);
  if (opts.to) query = query.where("to", "=", opts.to.trim().toLowerCase());
  const rows = await query.execute();
  return rows.map((r) => ({
    to: r.to,
    subject: r.subject,
    text: r.text,
    html: r.html,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}
