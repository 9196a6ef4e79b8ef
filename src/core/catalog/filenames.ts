import { invalidInput } from "../errors.ts";

/**
 * Bidirectional-text controls: the embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069) and the marks (U+200E, U+200F, U+061C). In a file name they only serve to make
 * it read as something else ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf").
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The name without bidirectional-text controls (also for names stored before uploads dropped them). */
export function withoutBidiControls(name: string): string {
  return name.replace(BIDI_CONTROLS, "");
}

/**
 * A seller-supplied file name made safe to store and to show: no folders, no control
 * characters (bidirectional-text controls included), no leading dots, at most 200 characters.
 * Unicode stays; headers encode it later.
 */
export function sanitizeFilename(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? "";
  const clean = withoutBidiControls(base)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "")
    // a lone UTF-16 surrogate is not a character and cannot be encoded in a header
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "")
    .replace(/^[.\s]+/, "")
    .trim();
  // 200 characters, not UTF-16 units, so an emoji is never cut in half
  const short = Array.from(clean).slice(0, 200).join("").trim();
  if (!short) throw invalidInput(`"${name.slice(0, 100)}" is not a usable file name.`);
  return short;
}

const TYPES: Record<string, string> = {
  zip: "application/zip",
  pdf: "application/pdf",
  epub: "application/epub+zip",
  mobi: "application/x-mobipocket-ebook",
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  json: "application/json",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  mov: "video/quicktime",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  "7z": "application/x-7z-compressed",
  psd: "image/vnd.adobe.photoshop",
  fig: "application/octet-stream",
  ttf: "font/ttf",
  otf: "font/otf",
  woff2: "font/woff2",
};

export function guessContentType(filename: string): string {
  const ext = filename.includes(".") ? filename.split(".").pop()?.toLowerCase() : undefined;
  return (ext && TYPES[ext]) || "application/octet-stream";
}

/**
 * A Content-Type we are willing to store: a plain `type/subtype`, optionally with parameters.
 * A form encoding is how a client sent the body, never what the file is (`curl --data-binary`
 * says application/x-www-form-urlencoded): the file name tells instead.
 */
export function safeContentType(value: string | null | undefined, filename: string): string {
  const type = value?.trim() ?? "";
  if (
    /^[\w.+-]+\/[\w.+-]+([ \t]*;[ \t]*[\w-]+=[\w.-]+)*$/.test(type) &&
    !/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)
  )
    return type;
  return guessContentType(filename);
}
