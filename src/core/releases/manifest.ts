/**
 * A release's manifest (decision 0018): every file's name, size and SHA-256, and what changed
 * against another release. Files are matched by name, exactly as written: a name only in the newer
 * release is added, only in the older one removed, in both with another SHA-256 changed (the size
 * alone never decides). A file renamed is therefore one removed and one added.
 */
import type { Release } from "../../db/schema.ts";
import { inFileOrder } from "../downloads/fileOrder.ts";

export interface ReleaseFile {
  /** The asset delivered for it (downloads go through the single-download verb by this id). */
  id: string;
  filename: string;
  size: number;
  sha256: string;
}

export interface ReleaseChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

/** What changed from `before` (none: the first release, everything added) to `after`. */
export function diffFiles(before: ReleaseFile[] | null, after: ReleaseFile[]): ReleaseChanges {
  const old = new Map((before ?? []).map((f) => [f.filename, f.sha256]));
  const now = new Set(after.map((f) => f.filename));
  return {
    added: after.filter((f) => !old.has(f.filename)).map((f) => f.filename),
    changed: after
      .filter((f) => old.has(f.filename) && old.get(f.filename) !== f.sha256)
      .map((f) => f.filename),
    removed: inFileOrder((before ?? []).filter((f) => !now.has(f.filename))).map((f) => f.filename),
  };
}

/** The files of `after` a holder of `before` does not have: the added and the changed. */
export function changedFiles(before: ReleaseFile[], after: ReleaseFile[]): ReleaseFile[] {
  const { added, changed } = diffFiles(before, after);
  const wanted = new Set([...added, ...changed]);
  return after.filter((f) => wanted.has(f.filename));
}

export interface ReleaseView {
  id: string;
  version: string;
  notes: string;
  publishedAt: number;
  notify: boolean;
  files: ReleaseFile[];
  changes: ReleaseChanges;
}

export function releaseView(row: Release): ReleaseView {
  return {
    id: row.id,
    version: row.version,
    notes: row.notes,
    publishedAt: Number(row.created_at),
    notify: row.notify === 1,
    files: JSON.parse(row.files) as ReleaseFile[],
    changes: JSON.parse(row.changes) as ReleaseChanges,
  };
}
