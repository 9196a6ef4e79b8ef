import { withoutBidiControls } from "./catalog/filenames.ts";

/**
 * `attachment; filename="..."; filename*=UTF-8''...` for any file name: the quoted fallback is
 * plain printable ASCII without quotes or backslashes, the extended form carries the real name
 * (RFC 6266, RFC 8187). Nothing of the name can break out of the header, and no bidirectional-text
 * control reaches the saved name, even from a name stored before uploads refused them.
 */
export function contentDisposition(name: string): string {
  const filename = withoutBidiControls(name);
  const fallback =
    filename
      .normalize("NFKD")
      .replace(/[^\x20-\x7e]/g, "")
      .replace(/["\\%;]/g, "_")
      .trim() || "download";
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc8187(filename)}`;
}

function encodeRfc8187(value: string): string {
  // A lone UTF-16 surrogate has no UTF-8 form (encodeURIComponent throws on it): use U+FFFD.
  const wellFormed = value.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    "\uFFFD",
  );
  return encodeURIComponent(wellFormed).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
