const MiB = 1024 * 1024;

/**
 * Reads a stream to the end while sampling the process's memory every few chunks; returns the
 * bytes read, the chunks, and how far rss and arrayBuffers grew above where they started (MiB).
 */
export async function drainMeasuringMemory(body: ReadableStream<Uint8Array>, sampleEvery = 8) {
  const sample = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, arrayBuffers: m.arrayBuffers };
  };
  const base = sample();
  const peak = { ...base };
  const reader = body.getReader();
  let read = 0;
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    if (++chunks % sampleEvery === 0) {
      const now = sample();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
    }
  }
  return {
    read,
    chunks,
    growth: {
      rss: (peak.rss - base.rss) / MiB,
      arrayBuffers: (peak.arrayBuffers - base.arrayBuffers) / MiB,
    },
  };
}
