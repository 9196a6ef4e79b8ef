import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoTime, timingSafeEqual, toBase64Url, toHex } from "../../src/core/encoding.ts";

describe("toHex", () => {
  it("writes two lowercase digits per byte", () => {
    expect(toHex(new Uint8Array([]))).toBe("");
    expect(toHex(new Uint8Array([0, 1, 15, 16, 171, 255]))).toBe("00010f10abff");
  });

  it("matches Node's hex for any bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString("hex"));
      }),
    );
  });
});

describe("toBase64Url", () => {
  it("uses the URL alphabet without padding", () => {
    expect(toBase64Url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
    expect(toBase64Url(new Uint8Array([1]))).toBe("AQ");
    expect(toBase64Url(new Uint8Array([]))).toBe("");
  });

  it("makes a 43-character token from 32 random bytes", () => {
    expect(toBase64Url(randomBytes(32))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("matches Node's base64url for any bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
      }),
    );
  });
});

describe("timingSafeEqual", () => {
  it("says whether two strings are the same", () => {
    expect(timingSafeEqual("", "")).toBe(true);
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "ab")).toBe(false);
    expect(timingSafeEqual("ab", "abc")).toBe(false);
    expect(timingSafeEqual("é", "e")).toBe(false);
  });

  it("agrees with === (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(timingSafeEqual(a, b)).toBe(a === b);
        expect(timingSafeEqual(a, a)).toBe(true);
      }),
    );
  });
});

describe("isoTime", () => {
  it("writes epoch milliseconds as UTC ISO 8601, null as null", () => {
    expect(isoTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(isoTime(Date.UTC(2025, 0, 2, 3, 4, 5, 6))).toBe("2025-01-02T03:04:05.006Z");
    expect(isoTime(null)).toBeNull();
  });
});
