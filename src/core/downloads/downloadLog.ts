import type { Trx } from "../../db/schema.ts";
import type { LoggedDownload } from "../ports.ts";

/** Rows per insert: far below every database's limit on bound values (13 per row). */
const ROWS_PER_INSERT = 500;

/**
 * Writes a batch of download log rows, and the uses of unlimited links they were made through,
 * in the transaction given (the runtime's batched DownloadLog calls it; see decision 0010).
 */
export async function writeDownloads(trx: Trx, downloads: LoggedDownload[]): Promise<void> {
  const uses = new Map<string, number>();
  for (const { useOf } of downloads) if (useOf) uses.set(useOf, (uses.get(useOf) ?? 0) + 1);
  for (let at = 0; at < downloads.length; at += ROWS_PER_INSERT) {
    const rows = downloads.slice(at, at + ROWS_PER_INSERT).map((d) => d.row);
    await trx.insertInto("downloads").values(rows).execute();
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
