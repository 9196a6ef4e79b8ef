/**
 * The one order a product's files are shown in, wherever a buyer sees them (library, checkout
 * success page, a link's page, the receipt mail, a "download all" archive): by file name without
 * regard to case, then as written, then by id, so the same files always come in the same order
 * on every page, database and runtime (no locale or collation involved).
 */
export function byFileName(
  a: { filename: string; id?: string },
  b: { filename: string; id?: string },
): number {
  return (
    compare(a.filename.toLowerCase(), b.filename.toLowerCase()) ||
    compare(a.filename, b.filename) ||
    compare(a.id ?? "", b.id ?? "")
  );
}

/** A copy of the files in that order. */
export function inFileOrder<T extends { filename: string; id?: string }>(files: readonly T[]): T[] {
  return [...files].sort(byFileName);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
