/**
 * The mail transport contract (./mailTransport.contract.ts) against the outbox, which keeps each
 * message in a real SQLite database of its own.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeCrypto } from "../../src/adapters/crypto-node/index.ts";
import { silentLogger } from "../../src/adapters/log-console/index.ts";
import { outboxMailer, readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { openSqlite } from "../../src/db/sqlite.ts";
import { mailTransportContract } from "./mailTransport.contract.ts";

async function database() {
  const db = openSqlite(join(mkdtempSync(join(tmpdir(), "tollgate-outbox-")), "test.db"));
  await migrateToLatest(db, "sqlite");
  return db;
}

// The outbox lists newest first by time; a clock that moves on every call keeps messages sent in
// the same millisecond in the order they were sent.
let tick = Date.now();
const clock = { now: () => ++tick };

mailTransportContract("the outbox (SQLite)", async () => {
  const db = await database();
  return {
    transport: outboxMailer({ db, clock, crypto: nodeCrypto, log: silentLogger }),
    from: null,
    async delivered() {
      const kept = await readOutbox(db, { limit: 1000 });
      return kept.reverse().map(({ to, subject, text, html }) => ({
        to,
        from: null,
        subject,
        text,
        html,
      }));
    },
    async down() {
      const closed = await database();
      await closed.destroy();
      return outboxMailer({ db: closed, clock, crypto: nodeCrypto, log: silentLogger });
    },
    close: () => db.destroy(),
  };
});
