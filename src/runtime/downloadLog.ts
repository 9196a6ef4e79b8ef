import { writeDownloads } from "../core/downloads/downloadLog.ts";
import type { DownloadLog, LoggedDownload, Logger } from "../core/ports.ts";
import { relaxedTransaction } from "../db/relaxedCommit.ts";
import type { Db } from "../db/schema.ts";

/** How long a row may wait for others: the log is at most about this much (plus a write) late. */
const DELAY_MS = 100;
const MAX_BATCH = 2000;
/**
 * Rows per transaction. SQLite writes on the event loop and has one connection: in small
 * transactions with a turn of the loop between them, answers waiting to go out and reads waiting
 * for the connection never wait long behind a busy second's log.
 */
const ROWS_PER_WRITE = 200;
const nextTurn = () => new Promise((resume) => setImmediate(resume));

/**
 * The Node runtime's download log (decision 0010): rows gather for up to 100 ms and are written
 * together in one transaction, off the answer's path, with a commit that does not wait for the
 * disk (db/relaxedCommit.ts). A failed write is logged and its rows are
 * lost, as a crash would lose them; `flush` writes what is waiting.
 */
export function batchedDownloadLog(
  db: Db,
  dialect: "sqlite" | "postgres",
  log: Logger,
): DownloadLog & { flush(): Promise<void> } {
  let waiting: LoggedDownload[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let writing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = waiting;
    waiting = [];
    if (!batch.length) return writing;
    // One write at a time, in order: a batch never overtakes the one before it. Its commit does
    // not wait for the disk: what a crash may lose is these rows, as decided.
    writing = writing.then(async () => {
      for (let at = 0; at < batch.length; at += ROWS_PER_WRITE) {
        if (at > 0) await nextTurn();
        const rows = batch.slice(at, at + ROWS_PER_WRITE);
        await relaxedTransaction(db, dialect, (trx) => writeDownloads(trx, rows)).catch((error) =>
          log.error("download log rows lost", { rows: rows.length, error: String(error) }),
        );
      }
    });
    return writing;
  }

  return {
    add(download) {
      waiting.push(download);
      if (waiting.length >= MAX_BATCH) void flush();
      else if (!timer) timer = setTimeout(() => void flush(), DELAY_MS);
    },
    flush,
  };
}
