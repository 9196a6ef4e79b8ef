import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "../../src/core/context.ts";
import { metered } from "../../src/core/downloads/continuations.ts";
import type { Asset } from "../../src/db/schema.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const SIZE = 1000;
const asset = { id: "ast_cont", size: SIZE, sha256: "0".repeat(64) } as Asset;

/** A file body that gives `first` bytes, then waits for more until it is cancelled. */
function stallingBody(first: number): ReadableStream<Uint8Array> {
  let given = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (given) return new Promise<void>(() => {});
        given = true;
        controller.enqueue(new Uint8Array(first));
      },
    },
    { highWaterMark: 0 },
  );
}

describe.each(dialects)("a broken-off transfer on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  it("gives its unsent bytes back once, though the cancel also fails the pending read", async () => {
    const now = h.ctx.clock.now();
    await db(h.ctx)
      .insertInto("downloads")
      .values({
        id: "dl_cont",
        entitlement_id: "ent_cont",
        asset_id: asset.id,
        token_id: null,
        user_id: null,
        ip: null,
        user_agent: null,
        created_at: now,
        link: "token:tok_cont",
        bytes_left: 0,
        resumable_until: now + 60_000,
        resume_allowance: 100,
      })
      .execute();
    const delivery = metered(
      h.ctx,
      { kind: "stream", asset, object: { body: stallingBody(300), size: SIZE } as never },
      "dl_cont",
    );
    if (delivery.kind !== "stream") throw new Error("expected a stream");
    const reader = delivery.object.body.getReader();
    expect((await reader.read()).value?.byteLength).toBe(300);
    const pending = reader.read();
    await new Promise((r) => setTimeout(r, 10));
    await reader.cancel("client went away");
    await pending.catch(() => {});
    await new Promise((r) => setTimeout(r, 50));

    const row = await db(h.ctx)
      .selectFrom("downloads")
      .select(["bytes_left", "resume_allowance"])
      .where("id", "=", "dl_cont")
      .executeTakeFirstOrThrow();
    // 700 never sent, plus 100 of the 300 in flight (all the allowance): one resume's worth.
    expect(Number(row.bytes_left)).toBe(800);
    expect(Number(row.resume_allowance)).toBe(0);
  });
});
