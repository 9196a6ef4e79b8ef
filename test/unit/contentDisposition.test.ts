import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contentDisposition } from "../../src/core/contentDisposition.ts";

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The parts of `attachment; filename="..."; filename*=UTF-8''...`, or a failure. */
function partsOf(header: string): { fallback: string; encoded: string } {
  const match =
    /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]*)$/.exec(header);
  if (!match) throw new Error(`not the expected shape: ${JSON.stringify(header)}`);
  return { fallback: match[1] ?? "", encoded: match[2] ?? "" };
}

/** Every UTF-16 code unit, lone surrogates included: anything a JS string can hold. */
const anyUtf16 = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('"', "\\", "\r", "\n", "%", ";", "'", "*", "(", ")", "😀"),
  ),
  maxLength: 40,
});

describe("contentDisposition", () => {
  it("keeps a plain name as it is", () => {
    expect(contentDisposition("starter-kit v2.zip")).toBe(
      "attachment; filename=\"starter-kit v2.zip\"; filename*=UTF-8''starter-kit%20v2.zip",
    );
  });

  it.each([
    'say "hi".zip',
    "back\\slash.zip",
    "evil\r\nSet-Cookie: a=b.zip",
    "tab\there.zip",
    "Ünïcødé 漢字.zip",
    "😀 party 🎉.zip",
    "100% off; really.zip",
    "it's (1) *star*.pdf",
    "\u0000null\u007f.txt",
    "漢字",
  ])("keeps %j inside the header and recoverable", (name) => {
    const header = contentDisposition(name);
    expect(header).not.toMatch(/[\r\n]/);
    const { fallback, encoded } = partsOf(header);
    expect(fallback).not.toMatch(/["\\%;]/);
    expect(fallback).toMatch(/^[\x20-\x7e]+$/);
    expect(decodeURIComponent(encoded)).toBe(name);
  });

  it("makes a readable ASCII fallback from accented names", () => {
    expect(partsOf(contentDisposition("Ünïcødé 漢字.zip")).fallback).toBe("Unicde .zip");
    expect(partsOf(contentDisposition('say "hi".zip')).fallback).toBe("say _hi_.zip");
  });

  it("falls back to 'download' when nothing ASCII is left", () => {
    expect(partsOf(contentDisposition("漢字")).fallback).toBe("download");
    expect(partsOf(contentDisposition("😀")).fallback).toBe("download");
  });

  it("encodes a lone surrogate instead of throwing", () => {
    const header = contentDisposition("broken\uD800name.zip");
    expect(decodeURIComponent(partsOf(header).encoded)).toBe("broken\uFFFDname.zip");
  });

  it.each([
    ["invoice\u202Efdp.exe", "invoicefdp.exe"],
    ["\u202Aa\u202Bb\u202Cc\u202Dd.zip", "abcd.zip"],
    ["\u2066a\u2067b\u2068c\u2069.zip", "abc.zip"],
    ["mark\u200Eed\u200F\u061C.zip", "marked.zip"],
    ["مرحبا\u202E.pdf", "مرحبا.pdf"],
  ])(
    "drops bidirectional-text controls from %j, stored before uploads dropped them",
    (name, saved) => {
      const header = contentDisposition(name);
      expect(decodeURIComponent(partsOf(header).encoded)).toBe(saved);
      expect(header).not.toMatch(/%E2%80%A[A-E]|%E2%81%A[6-9]|%E2%80%8[EF]|%D8%9C/);
    },
  );

  it("never lets a control character into the header, whatever the name (property)", () => {
    fc.assert(
      fc.property(anyUtf16, (name) => {
        const header = contentDisposition(name);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
        expect(header).not.toMatch(/[\u0000-\u001f\u007f]/);
        expect(header).toMatch(/^[\x20-\x7e]+$/);
        partsOf(header);
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips every well-formed name through filename* (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (name) => {
        const { encoded } = partsOf(contentDisposition(name));
        expect(decodeURIComponent(encoded)).toBe(name.replace(BIDI, ""));
      }),
      { numRuns: 2000 },
    );
  });
});
