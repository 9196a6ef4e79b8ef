import type { Db, Trx } from "./schema.ts";

/** Enough to share a commit widely; small enough that one transaction stays short. */
const MAX_BATCH = 200;

/**
 * Group commit for Node (it needs setImmediate; on Workers a request may not wait on another
 * request's I/O). The work queued during one turn of the event loop runs in one transaction, one
 * after another, and commits once: one fsync on SQLite (synchronous=FULL) however many downloads
 * are under way, where each used to pay its own. Every caller is answered after that commit. If
 * the shared transaction fails, it is rolled back whole and each work runs again in a
 * transaction of its own, so only the failing one fails.
 *
 * It has the shape of the core's GroupCommit port (core/ports.ts) without importing it: the
 * database layer sits below the core, and the runtime hands this to the core as that port.
 */
export function groupCommit(db: Db): { run<T>(work: (trx: Trx) => Promise<T>): Promise<T> } {
  const queue: Pending[] = [];
  let scheduled = false;

  async function flush() {
    scheduled = false;
    const batch = queue.splice(0, MAX_BATCH);
    if (queue.length) schedule();
    if (batch.length === 1) return alone(batch[0] as Pending);
    let results: unknown[];
    try {
      results = await db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const p of batch) out.push(await p.work(trx));
        return out;
      });
    } catch {
      await Promise.all(batch.map(alone));
      return;
    }
    for (const [i, p] of batch.entries()) p.done(results[i]);
  }

  const alone = (p: Pending) => db.transaction().execute(p.work).then(p.done, p.fail);

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void flush());
  }

  return {
    run<T>(work: (trx: Trx) => Promise<T>): Promise<T> {
      return new Promise<T>((done, fail) => {
        queue.push({ work, done: done as (value: unknown) => void, fail });
        schedule();
      });
    },
  };
}

interface Pending {
  work: (trx: Trx) => Promise<unknown>;
  done: (value: unknown) => void;
  fail: (error: unknown) => void;
}
