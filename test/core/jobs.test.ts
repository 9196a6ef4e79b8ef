import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimJob, runJobOnce } from "../../src/core/jobs.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const MINUTE = 60_000;

describe.each(dialects)("job leases on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  it("gives each due pass to exactly one of many claims at once", async () => {
    const job = { name: "race", everyMs: 10 * MINUTE, leaseMs: MINUTE };
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => claimJob(h.ctx, job, `holder-${i}`)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    // Not due again until the interval has passed, whoever asks.
    h.clock.advance(2 * MINUTE);
    expect(await claimJob(h.ctx, job, "late")).toBe(false);
    h.clock.advance(9 * MINUTE);
    const again = await Promise.all(
      Array.from({ length: 20 }, (_, i) => claimJob(h.ctx, job, `holder-${i}`)),
    );
    expect(again.filter(Boolean)).toHaveLength(1);
  });

  it("lets nobody else start while the holder's lease runs, and takes over once it lapses", async () => {
    // A pass longer than the interval: its holder's lease, not the schedule, keeps others out.
    const job = { name: "long", everyMs: MINUTE, leaseMs: 5 * MINUTE };
    expect(await claimJob(h.ctx, job, "a")).toBe(true);
    h.clock.advance(2 * MINUTE);
    expect(await claimJob(h.ctx, job, "b")).toBe(false);
    // "a" died without giving the lease back: "b" takes the job once the lease is over.
    h.clock.advance(4 * MINUTE);
    expect(await claimJob(h.ctx, job, "b")).toBe(true);
  });

  it("gives the lease back after a pass, also a failed one, and runs nothing when not won", async () => {
    const job = { name: "pass", everyMs: MINUTE, leaseMs: 30 * MINUTE };
    const first = await runJobOnce(h.ctx, job, "a", async () => 7);
    expect(first).toEqual({ ran: true, result: 7 });
    let ran = false;
    expect(
      await runJobOnce(h.ctx, job, "b", async () => {
        ran = true;
      }),
    ).toEqual({ ran: false });
    expect(ran).toBe(false);
    h.clock.advance(MINUTE);
    await expect(
      runJobOnce(h.ctx, job, "b", async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    // Released despite the failure: the next pass is due after one interval, not the lease.
    h.clock.advance(MINUTE);
    expect(await runJobOnce(h.ctx, job, "c", async () => "ok")).toEqual({
      ran: true,
      result: "ok",
    });
  });
});
