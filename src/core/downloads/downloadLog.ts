import { CompiledQuery } from "kysely";
import type { DownloadsTable, Trx } from "../../db/schema.ts";
import type { LoggedDownload } from "../ports.ts";

/** Rows per insert: far below every database's limit on bound values (12 per row). */
const ROWS_PER_INSERT = 200;

/** Every column of a log row, in the order the compiled insert binds them. */
const COLUMNS: Record<keyof DownloadsTable, true> = {
  id: true,
  entitlement_id: true,
  asset_id: true,
  token_id: true,
  user_id: true,
  ip: true,
  user_agent: true,
  created_at: true,
  link: true,
  bytes_left: true,
  resumable_until: true,
  resume_allowance: true,
};
const NAMES = Object.keys(COLUMNS) as (keyof DownloadsTable)[];
const TEMPLATE = Object.fromEntries(NAMES.map((name) => [name, null])) as never;

/**
 * The SQL of an insert of `rows` rows, compiled once per size and dialect: building a few
 * hundred rows of query nodes on every batch cost more than the database's own work.
 */
const compiled = new Map<unknown, Map<number, string>>();
function insertSql(trx: Trx, rows: number): string {
  // One per dialect: the adapter's class says which placeholders it writes.
  const key = trx.getExecutor().adapter.constructor;
  const bySize = compiled.get(key) ?? new Map<number, string>();
  compiled.set(key, bySize);
  let text = bySize.get(rows);
  if (!text) {
    text = trx
      .insertInto("downloads")
      .values(Array.from({ length: rows }, () => TEMPLATE))
      .compile().sql;
    bySize.set(rows, text);
  }
  return text;
}

/**
 * Writes a batch of download log rows, and the uses of unlimited links they were made through,
 * in the transaction given (the runtime's batched DownloadLog calls it; see decision 0010).
 */
export async function writeDownloads(trx: Trx, downloads: LoggedDownload[]): Promise<void> {
  const uses = new Map<string, number>();
  for (const { useOf } of downloads) if (useOf) uses.set(useOf, (uses.get(useOf) ?? 0) + 1);
  for (let at = 0; at < downloads.length; at += ROWS_PER_INSERT) {
    const batch = downloads.slice(at, at + ROWS_PER_INSERT);
    const values = batch.flatMap(({ row }) => NAMES.map((name) => row[name] ?? null));
    await trx.executeQuery(CompiledQuery.raw(insertSql(trx, batch.length), values));
  }
  for (const [id, count] of uses)
    await trx
      .updateTable("delivery_tokens")
      .set((eb) => ({ uses: eb("uses", "+", count) }))
      .where("id", "=", id)
      // Says the count decides nothing, so the read cache keeps what it has (readCache.ts).
      .where("max_uses", "is", null)
      .execute();
}
