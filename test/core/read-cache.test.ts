import { describe, expect, it } from "vitest";
import { readCache } from "../../src/core/readCache.ts";

/** The read cache's rule on a clock the test moves (core/readCache.ts, decision 0010). */
describe("the read cache", () => {
  function setup() {
    let time = 0;
    const cache = readCache(() => time);
    let loads = 0;
    let value = "first";
    const read = () =>
      cache.read("key", async () => {
        loads++;
        return value;
      });
    return {
      cache,
      read,
      loads: () => loads,
      set: (v: string) => {
        value = v;
      },
      at: (t: number) => {
        time = t;
      },
    };
  }

  it("serves a read for less than a second, then reads again", async () => {
    const s = setup();
    expect(await s.read()).toBe("first");
    s.set("second");
    s.at(999);
    expect(await s.read()).toBe("first");
    s.at(1000);
    expect(await s.read()).toBe("second");
  });

  it("never serves what was read more than a second before", async () => {
    const s = setup();
    for (let t = 0; t <= 5000; t += 50) {
      s.at(t);
      s.set(`at ${t}`);
      const got = Number((await s.read()).replace(/\D/g, "") || 0);
      expect(t - got).toBeLessThan(1000);
    }
  });

  it("loads a busy key again before it expires, so its readers never all wait at once", async () => {
    const s = setup();
    await s.read();
    s.at(800);
    s.set("refreshed");
    expect(await s.read()).toBe("first");
    await Promise.resolve();
    s.at(900);
    expect(await s.read()).toBe("refreshed");
    expect(s.loads()).toBe(2);
  });

  it("forgets everything at once, including a load under way", async () => {
    const s = setup();
    await s.read();
    s.set("after the write");
    s.cache.forget();
    expect(await s.read()).toBe("after the write");
    let finish: (v: string) => void = () => {};
    const slow = s.cache.read("slow", () => new Promise<string>((done) => (finish = done)));
    s.cache.forget();
    finish("read before the write");
    await slow;
    expect(await s.cache.read("slow", async () => "read after it")).toBe("read after it");
  });

  it("shares one load among concurrent readers and keeps no failure", async () => {
    const s = setup();
    const [a, b] = await Promise.all([s.read(), s.read()]);
    expect([a, b, s.loads()]).toEqual(["first", "first", 1]);
    await expect(
      s.cache.read("bad", async () => Promise.reject(new Error("down"))),
    ).rejects.toThrow();
    expect(await s.cache.read("bad", async () => "up")).toBe("up");
  });
});
