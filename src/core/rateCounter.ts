import type { RateCounter } from "./ports.ts";

/**
 * Fixed-window counters in memory. A window starts at its key's first hit; a key whose window
 * ended is counted from 1 again. Old keys are swept when the map grows, so a flood of distinct
 * keys (made-up licence keys) costs bounded memory.
 */
export function rateCounter(now: () => number = () => performance.now()): RateCounter {
  const windows = new Map<string, { start: number; count: number; ms: number }>();
  const MAX_KEYS = 100_000;
  return {
    hit(key, limit, windowSeconds) {
      const at = now();
      const ms = windowSeconds * 1000;
      let w = windows.get(key);
      if (!w || at - w.start >= w.ms || at < w.start) {
        if (!w && windows.size >= MAX_KEYS) sweep(at);
        w = { start: at, count: 0, ms };
        windows.set(key, w);
      }
      w.count++;
      return w.count > limit ? Math.max(1, Math.ceil((w.start + ms - at) / 1000)) : null;
    },
  };
  function sweep(at: number) {
    for (const [key, w] of windows) if (at - w.start >= w.ms) windows.delete(key);
    // Still full of live windows: forget the oldest half rather than grow without bound.
    if (windows.size >= MAX_KEYS) {
      let drop = windows.size / 2;
      for (const key of windows.keys()) {
        if (drop-- <= 0) break;
        windows.delete(key);
      }
    }
  }
}
