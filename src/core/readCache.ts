import type { Ctx } from "./context.ts";
import type { ReadCache } from "./ports.ts";

/**
 * Recent reads of what decides a download or a licence (sessions, users, entitlements, products,
 * files, links, licences and their activations), so a buyer downloading again does not cost a database round trip each time. The rule
 * that keeps it safe (decision 0010): a read is served for at most one second, and any committed
 * write to those tables in this process forgets everything at once (db/watchWrites.ts sees every
 * statement). Another process's write is therefore seen within a second: an entry is never older
 * than one second counted from before its read began. Refunds and revocations cut access as
 * before; a revoked buyer is never let in for longer than that second on another instance.
 */

/** The tables whose rows the cache keeps (and whose writes make it forget). */
export const ACCESS_TABLES = [
  "sessions",
  "users",
  "entitlements",
  "products",
  "assets",
  "delivery_tokens",
  "licenses",
  "license_activations",
] as const;

const ACCESS_WRITE = new RegExp(
  `\\b(?:insert\\s+into|update|delete\\s+from)\\s+"?(?:${ACCESS_TABLES.join("|")})\\b`,
  "i",
);
/** The uses of a link without a limit, counted after the answer: a count that decides nothing. */
const UNLIMITED_USES_COUNTED =
  /^update "delivery_tokens" set "uses" = "uses" \+ \S+ where "id" = \S+ and "max_uses" is null$/;

/** A validation moving a machine's last-seen time on: a time that decides nothing. */
const MACHINE_SEEN =
  /^update "license_activations" set "last_seen_at" = \S+ where "id" = \S+ and "last_seen_at" < \S+$/;

/** Whether a statement (its SQL text) changes what the cache keeps. */
export function changesAccess(sql: string): boolean {
  return ACCESS_WRITE.test(sql) && !UNLIMITED_USES_COUNTED.test(sql) && !MACHINE_SEEN.test(sql);
}

const MAX_AGE_MS = 1000;
/**
 * From this age a read is loaded again in the background while the one kept is still served:
 * busy keys never expire under their readers, who would otherwise all wait on one load at once
 * every second (that wait was the downloads' p99).
 */
const REFRESH_AGE_MS = 750;
const MAX_ENTRIES = 20_000;

/**
 * The cache, on a monotonic clock. Reads of one key under way together share one load; a failed
 * load is not kept.
 */
export function readCache(now: () => number = () => performance.now()): ReadCache {
  interface Entry {
    value: Promise<unknown>;
    since: number;
    refreshing?: boolean;
  }
  const entries = new Map<string, Entry>();
  /** Loads and keeps `key`; a newer entry or a forget() in the meantime wins over it. */
  function start(key: string, load: () => Promise<unknown>, at: number, replacing?: Entry) {
    const entry: Entry = { value: load(), since: at };
    if (!replacing) entries.set(key, entry);
    entry.value.then(
      () => {
        if (replacing && entries.get(key) === replacing) entries.set(key, entry);
      },
      () => {
        if (entries.get(key) === entry) entries.delete(key);
        if (replacing) replacing.refreshing = false;
      },
    );
    return entry;
  }
  return {
    read<T>(key: string, load: () => Promise<T>): Promise<T> {
      const at = now();
      const kept = entries.get(key);
      if (kept && at - kept.since < MAX_AGE_MS) {
        if (at - kept.since >= REFRESH_AGE_MS && !kept.refreshing) {
          kept.refreshing = true;
          start(key, load, at, kept);
        }
        return kept.value as Promise<T>;
      }
      if (entries.size >= MAX_ENTRIES) entries.clear();
      return start(key, load, at).value as Promise<T>;
    },
    // A load under way when this runs is dropped with the rest, so what it read is never kept.
    forget() {
      entries.clear();
    },
  };
}

/**
 * A read through the cache, or straight from the database inside a transaction (which must see
 * its own writes) and where the runtime keeps no cache.
 */
export function cachedRead<T>(ctx: Ctx, key: string, load: () => Promise<T>): Promise<T> {
  return ctx.trx || !ctx.reads ? load() : ctx.reads.read(key, load);
}
