import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  guessContentType,
  safeContentType,
  sanitizeFilename,
} from "../../src/core/catalog/filenames.ts";
import { contentDisposition } from "../../src/core/contentDisposition.ts";
import { AppError } from "../../src/core/errors.ts";

/** No lone UTF-16 surrogate (String#isWellFormed is ES2024, past this project's lib). */
const wellFormed = (text: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe("sanitizeFilename", () => {
  it.each([
    ["kit.zip", "kit.zip"],
    ["../../etc/passwd", "passwd"],
    ["C:\\x\\y.zip", "y.zip"],
    ["/abs/path/to/file.pdf", "file.pdf"],
    ["..\\..\\windows\\system32\\cmd.exe", "cmd.exe"],
    [".htaccess", "htaccess"],
    ["...hidden.txt", "hidden.txt"],
    [" . spaced.txt ", "spaced.txt"],
    ["bad\u0000na\u001fme\u007f.zip", "badname.zip"],
    ["line\r\nbreak.zip", "linebreak.zip"],
    ["sep\u2028ara\u2029tor.zip", "separator.zip"],
    ["Ünïcødé 漢字.zip", "Ünïcødé 漢字.zip"],
    ["😀 party.zip", "😀 party.zip"],
    ["invoice\u202Efdp.exe", "invoicefdp.exe"],
    ["\u202Aa\u202Bb\u202Cc\u202Dd\u202Ee.zip", "abcde.zip"],
    ["\u2066a\u2067b\u2068c\u2069.zip", "abc.zip"],
    ["mark\u200Eed\u200F\u061C.zip", "marked.zip"],
    ["\u202E.hidden.zip", "hidden.zip"],
    ["مرحبا.pdf", "مرحبا.pdf"],
  ])("%j -> %j", (name, expected) => {
    expect(sanitizeFilename(name)).toBe(expected);
  });

  it.each([
    "",
    "   ",
    ".",
    "..",
    "../",
    "folder/",
    "C:\\",
    "\u0000\u0001",
    "...",
    "\uD800",
    "\u202E\u2066\u200F",
  ])("refuses %j as a file name", (name) => {
    expect(() => sanitizeFilename(name)).toThrow(AppError);
    expect(() => sanitizeFilename(name)).toThrow(/is not a usable file name/);
  });

  it("keeps at most 200 characters and never cuts an emoji in half", () => {
    expect(sanitizeFilename(`${"a".repeat(300)}.zip`)).toHaveLength(200);
    const name = sanitizeFilename(`a${"😀".repeat(250)}`);
    expect(Array.from(name)).toHaveLength(200);
    expect(wellFormed(name)).toBe(true);
    // and it still makes a header (encodeURIComponent throws on half an emoji)
    expect(() => contentDisposition(name)).not.toThrow();
  });

  it("gives a name without folders or control characters, or refuses (property)", () => {
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      fc.constantFrom("/", "\\", ".", " ", "😀", "a", "\u202E", "\u2066", "\u200F", "\u061C"),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 260 }), (raw) => {
        let name: string;
        try {
          name = sanitizeFilename(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          return;
        }
        expect(name).not.toMatch(/[/\\]/);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
        expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        expect(name).not.toMatch(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
        expect(name).not.toMatch(/^[.\s]/);
        expect(wellFormed(name)).toBe(true);
        expect(Array.from(name).length).toBeLessThanOrEqual(200);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("safeContentType", () => {
  it("keeps a plain type, with parameters", () => {
    expect(safeContentType("application/zip", "x.bin")).toBe("application/zip");
    expect(safeContentType(" text/plain; charset=utf-8 ", "x.bin")).toBe(
      "text/plain; charset=utf-8",
    );
    expect(safeContentType("application/vnd.ms-excel", "x.bin")).toBe("application/vnd.ms-excel");
    expect(safeContentType("image/svg+xml", "x.bin")).toBe("image/svg+xml");
  });

  it.each([
    null,
    undefined,
    "",
    "zip",
    "text/plain\r\nSet-Cookie: a=b",
    "text/plain;\r\n charset=utf-8",
    "text/plain\n; charset=utf-8",
    'text/plain; charset="utf-8"',
    "text/<script>",
    "a/b/c",
    // How the body was sent, never what the file is (curl --data-binary's default).
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
  ])("guesses from the file name instead of storing %j", (value) => {
    expect(safeContentType(value, "book.pdf")).toBe("application/pdf");
  });

  it("guesses from the extension, case-insensitively", () => {
    expect(guessContentType("kit.ZIP")).toBe("application/zip");
    expect(guessContentType("notes.txt")).toBe("text/plain; charset=utf-8");
    expect(guessContentType("archive.tar.gz")).toBe("application/gzip");
    expect(guessContentType("README")).toBe("application/octet-stream");
    expect(guessContentType("file.unknownext")).toBe("application/octet-stream");
  });
});
