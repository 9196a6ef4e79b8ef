import { describe, expect, it } from "vitest";
import { isTimeZone, timeZoneOffsetMs } from "../../src/core/shop/profile.ts";
import { formatDate } from "../../src/pages/format.ts";

const HOUR = 3600_000;
const winter = Date.UTC(2030, 0, 2, 10, 0);
const summer = Date.UTC(2030, 6, 2, 23, 30);

describe("the shop's time zone", () => {
  it("knows each zone's offset, summer time included", () => {
    expect(timeZoneOffsetMs("UTC", winter)).toBe(0);
    expect(timeZoneOffsetMs("Asia/Tokyo", winter)).toBe(9 * HOUR);
    expect(timeZoneOffsetMs("Europe/Berlin", winter)).toBe(1 * HOUR);
    expect(timeZoneOffsetMs("Europe/Berlin", summer)).toBe(2 * HOUR);
    expect(timeZoneOffsetMs("America/New_York", winter)).toBe(-5 * HOUR);
    expect(timeZoneOffsetMs("Asia/Kolkata", winter)).toBe(5.5 * HOUR);
  });

  it("writes a moment in the zone, year first, the zone always named", () => {
    expect(formatDate(winter)).toBe("2030-01-02 10:00 UTC");
    expect(formatDate(winter, "Europe/Berlin")).toBe("2030-01-02 11:00 GMT+1");
    // Past midnight in Tokyo: the date moves on too.
    expect(formatDate(summer, "Asia/Tokyo")).toBe("2030-07-03 08:30 GMT+9");
    expect(formatDate(summer, "America/New_York")).toBe("2030-07-02 19:30 EDT");
  });

  it("takes only zones the runtime knows", () => {
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});
