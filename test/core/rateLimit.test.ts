import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anonymous } from "../../src/core/context.ts";
import { hitRateLimit } from "../../src/core/identity/rateLimit.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

describe.each(dialects)("the shared rate limiter on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  const hit = (key: string) =>
    hitRateLimit({ ...h.deps, actor: anonymous }, key, 2, 60, "Slow down.").then(
      () => "ok",
      (error: Error & { code?: string }) => error.code,
    );

  it("refuses past the limit within the window, and counts again once it has passed", async () => {
    expect([await hit("a"), await hit("a"), await hit("a")]).toEqual(["ok", "ok", "rate_limited"]);
    h.clock.advance(61_000);
    expect(await hit("a")).toBe("ok");
  });

  it("does not stay shut forever when the clock steps back past a window's start", async () => {
    expect([await hit("b"), await hit("b"), await hit("b")]).toEqual(["ok", "ok", "rate_limited"]);
    h.clock.advance(-3600_000);
    expect(await hit("b")).toBe("ok");
  });
});
