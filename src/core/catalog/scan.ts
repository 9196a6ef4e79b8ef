/**
 * Malware scanning (CLAMD_URL; decision 0027). With a scanner, every file is streamed from
 * storage to it after it is stored and before it is recorded as deliverable (assets.ts,
 * recordStoredAsset, which both the admin upload and the completing call of a direct or chunked
 * upload end in): while clamd reads it, no row names it, so nobody can have it. An infected file,
 * or one clamd could not scan (too large for its StreamMaxLength, unreachable), is recorded
 * quarantined: inactive, never delivered, shown to the seller with what clamd said, and older
 * versions of its name stay delivered. Without a scanner nothing is scanned and nothing changes.
 */
import type { Asset, ScanStatus } from "../../db/schema.ts";
import type { Ctx } from "../context.ts";
import type { ScanVerdict } from "../ports.ts";

/** The scan columns of a file's row. */
export interface ScanColumns {
  scan_status: ScanStatus | null;
  scan_detail: string | null;
  scanned_at: number | null;
}

export const NOT_SCANNED: ScanColumns = { scan_status: null, scan_detail: null, scanned_at: null };

/** Streams a stored file to the scanner; null without one (CLAMD_URL unset). */
export async function scanStoredFile(
  ctx: Ctx,
  file: { storageKey: string; filename: string; size?: number },
): Promise<ScanColumns | null> {
  const scanner = ctx.scanner;
  if (!scanner) return null;
  const startedAt = ctx.clock.now();
  let verdict: ScanVerdict;
  try {
    const object = await ctx.store.get(file.storageKey);
    verdict = object
      ? await scanner.scan(object.body)
      : { status: "failed", reason: "the file is not in storage" };
  } catch (error) {
    verdict = {
      status: "failed",
      reason: `the file could not be read from storage: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const facts = {
    filename: file.filename,
    size: file.size,
    scanner: scanner.name,
    ms: ctx.clock.now() - startedAt,
  };
  if (verdict.status === "clean") ctx.log.info("file scanned: clean", facts);
  else if (verdict.status === "infected")
    ctx.log.warn("file scanned: infected, quarantined", { ...facts, signature: verdict.signature });
  else ctx.log.warn("file scan failed, quarantined", { ...facts, reason: verdict.reason });
  return columnsOf(verdict, ctx.clock.now());
}

export const columnsOf = (verdict: ScanVerdict, now: number): ScanColumns => ({
  scan_status: verdict.status,
  scan_detail:
    verdict.status === "infected"
      ? verdict.signature
      : verdict.status === "failed"
        ? verdict.reason.slice(0, 500)
        : null,
  scanned_at: now,
});

/** Held back by a scan: infected, or not scanned because the scan failed. */
export const isQuarantined = (asset: Pick<Asset, "scan_status">): boolean =>
  asset.scan_status === "infected" || asset.scan_status === "failed";

/** What the seller reads of a file's scan, or null when it was not scanned. */
export function scanText(asset: Pick<Asset, "scan_status" | "scan_detail">): string | null {
  switch (asset.scan_status) {
    case "clean":
      return "Scanned: clean";
    case "infected":
      return `Quarantined: malware found (${asset.scan_detail ?? "unnamed"}). Never delivered; upload a clean file.`;
    case "failed":
      return `Quarantined: the malware scan failed (${asset.scan_detail ?? "no reason given"}). Not delivered until a scan clears it: restore it to scan again, or upload it again.`;
    default:
      return null;
  }
}
