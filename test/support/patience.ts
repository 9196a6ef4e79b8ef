/**
 * How long a test waits for something that should happen (a process to start, a page to show a
 * message, a webhook to land) before it gives up. It is not a measure of speed: the suite must
 * pass on a busy two-core machine (load average 10), so it is generous, and a healthy run never
 * comes near it. Timings are judged by the benchmarks, never by tests.
 */
export const PATIENCE_MS = 180_000;
