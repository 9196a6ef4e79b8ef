import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRange } from "../../src/core/delivery/range.ts";

const partial = (start: number, end: number) => ({ kind: "partial", range: { start, end } });
const full = { kind: "full" };
const unsatisfiable = { kind: "unsatisfiable" };

describe("parseRange", () => {
  it("sends the whole file without a Range header", () => {
    expect(parseRange(undefined, 100)).toEqual(full);
    expect(parseRange(null, 100)).toEqual(full);
    expect(parseRange("", 100)).toEqual(full);
  });

  it.each([
    ["bytes=0-99", 100, partial(0, 99)],
    ["bytes=0-0", 100, partial(0, 0)],
    ["bytes=10-19", 100, partial(10, 19)],
    ["bytes=99-99", 100, partial(99, 99)],
    ["Bytes = 10 - 19", 100, partial(10, 19)],
  ] as const)("%s of %i bytes is a part", (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it("reads a suffix range as the last bytes, the whole file when longer", () => {
    expect(parseRange("bytes=-10", 100)).toEqual(partial(90, 99));
    expect(parseRange("bytes=-100", 100)).toEqual(partial(0, 99));
    expect(parseRange("bytes=-500", 100)).toEqual(partial(0, 99));
    expect(parseRange("bytes=-99999999999999999999", 100)).toEqual(partial(0, 99));
  });

  it("reads an open-ended range to the last byte", () => {
    expect(parseRange("bytes=0-", 100)).toEqual(partial(0, 99));
    expect(parseRange("bytes=40-", 100)).toEqual(partial(40, 99));
  });

  it("clamps an end past the file to its last byte, however large", () => {
    expect(parseRange("bytes=50-1000", 100)).toEqual(partial(50, 99));
    expect(parseRange("bytes=0-99999999999999999999", 100)).toEqual(partial(0, 99));
  });

  it("cannot satisfy a start at or past the end, nor an empty suffix", () => {
    expect(parseRange("bytes=100-", 100)).toEqual(unsatisfiable);
    expect(parseRange("bytes=100-200", 100)).toEqual(unsatisfiable);
    expect(parseRange("bytes=123456789012345678901-", 100)).toEqual(unsatisfiable);
    expect(parseRange("bytes=-0", 100)).toEqual(unsatisfiable);
  });

  it.each([
    "bytes=0-1,5-6",
    "bytes=-",
    "bytes=abc",
    "bytes=5-3",
    "items=0-10",
    "0-10",
    "bytes=1.5-3",
    "bytes=--1",
    "bytes=0-10;x",
  ])("answers %j with the whole file", (header) => {
    expect(parseRange(header, 100)).toEqual(full);
  });

  it("never hands out a part of an empty file", () => {
    expect(parseRange("bytes=0-", 0)).toEqual(unsatisfiable);
    expect(parseRange("bytes=0-0", 0)).toEqual(unsatisfiable);
    expect(parseRange("bytes=-5", 0)).toEqual(unsatisfiable);
    expect(parseRange(null, 0)).toEqual(full);
  });

  it("keeps every part inside the file, start <= end (property)", () => {
    const digits = fc.oneof(
      fc.constant(""),
      fc.nat({ max: 2000 }).map(String),
      fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
    );
    const header = fc.oneof(
      fc.tuple(digits, digits).map(([a, b]) => `bytes=${a}-${b}`),
      fc.string(),
    );
    fc.assert(
      fc.property(header, fc.nat({ max: 1500 }), (h, size) => {
        const result = parseRange(h, size);
        if (result.kind === "partial") {
          expect(result.range.start).toBeGreaterThanOrEqual(0);
          expect(result.range.start).toBeLessThanOrEqual(result.range.end);
          expect(result.range.end).toBeLessThanOrEqual(size - 1);
          expect(Number.isInteger(result.range.start)).toBe(true);
          expect(Number.isInteger(result.range.end)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("gives exactly the asked bytes when they are inside the file (property)", () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.nat({ max: 10_000 }), (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        expect(parseRange(`bytes=${start}-${end}`, end + 1)).toEqual(partial(start, end));
      }),
    );
  });
});
