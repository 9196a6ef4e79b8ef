import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDuration, parseSize } from "../../src/core/duration.ts";

const UNIT_SECONDS = { "": 1, s: 1, m: 60, h: 3600, d: 86400 } as const;

describe("parseDuration", () => {
  it.each([
    ["300", 300],
    ["90s", 90],
    ["5m", 300],
    ["24h", 86400],
    ["7d", 604800],
    [" 15m ", 900],
    ["2 h", 7200],
  ])("%j is %i seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it("takes whole positive numbers as seconds", () => {
    expect(parseDuration(60)).toBe(60);
    expect(parseDuration(0)).toBeNull();
    expect(parseDuration(-5)).toBeNull();
    expect(parseDuration(1.5)).toBeNull();
    expect(parseDuration(Number.NaN)).toBeNull();
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeNull();
  });

  it.each([
    "",
    "abc",
    "0",
    "0s",
    "-5m",
    "1.5h",
    "5 minutes",
    "5w",
    "5M",
    "2h30m",
    "h",
    "1e3",
    "0x10",
    "1234567890",
  ])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it("reads any count with any unit (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 999_999_999 }),
        fc.constantFrom(...(Object.keys(UNIT_SECONDS) as (keyof typeof UNIT_SECONDS)[])),
        (count, unit) => {
          expect(parseDuration(`${count}${unit}`)).toBe(count * UNIT_SECONDS[unit]);
        },
      ),
    );
  });

  it("answers a positive whole number of seconds or null for any text (property)", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const seconds = parseDuration(text);
        if (seconds !== null) {
          expect(Number.isSafeInteger(seconds)).toBe(true);
          expect(seconds).toBeGreaterThan(0);
        }
      }),
    );
  });
});

describe("parseSize", () => {
  it.each([
    ["1048576", 1048576],
    ["512KB", 512 * 1024],
    ["512kb", 512 * 1024],
    ["512K", 512 * 1024],
    ["100MB", 100 * 1024 ** 2],
    ["5GB", 5 * 1024 ** 3],
    ["5 gb", 5 * 1024 ** 3],
    ["1TB", 1024 ** 4],
    ["1.5KB", 1536],
    ["10B", 10],
  ])("%j is %i bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["", "abc", "0", "0MB", "-1MB", "5PB", "5 GiB", "MB", "0.1B", "99999999999TB"])(
    "refuses %j",
    (text) => {
      expect(parseSize(text)).toBeNull();
    },
  );
});
