import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import type { LoadResult } from "./load.ts";

export interface Figure {
  /** Requests or events per second, MB/s for streaming, or MiB of peak memory (uploads). */
  value: number;
  unit: "req/s" | "events/s" | "MB/s" | "MiB";
  p50Ms?: number;
  p99Ms?: number;
}

export interface Row {
  benchmark: string;
  database: string;
  storage: string;
  app: Figure;
  baseline: Figure;
  /** app / baseline. */
  ratio: number;
  goal: number;
  /** The goal is a ceiling (memory): met when the ratio is at most the goal. */
  atMost?: boolean;
  /** Anything else measured alongside, e.g. memory growth. */
  extra?: Record<string, number | string>;
  /** Extra goals beside the ratio (e.g. memory), true when met. */
  checks?: Record<string, boolean>;
}

export interface Skipped {
  benchmark: string;
  database: string;
  reason: string;
}

const fmt = (f: Figure) =>
  f.unit === "MB/s" ? `${f.value.toFixed(0)} MB/s` : `${Math.round(f.value)} ${f.unit}`;
const latency = (f: Figure) =>
  f.p50Ms === undefined ? "" : `${f.p50Ms.toFixed(1)} / ${(f.p99Ms ?? 0).toFixed(1)}`;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export const met = (row: Row) =>
  (row.atMost ? row.ratio <= row.goal : row.ratio >= row.goal) &&
  Object.values(row.checks ?? {}).every(Boolean);

/** A Markdown table: readable in a terminal and pasteable into docs/performance.md. */
export function table(rows: Row[]): string {
  const head = [
    "benchmark",
    "database",
    "storage",
    "app",
    "p50 / p99 ms",
    "baseline",
    "p50 / p99 ms",
    "ratio",
    "goal",
    "",
  ];
  const body = rows.map((r) => [
    r.benchmark,
    r.database,
    r.storage,
    fmt(r.app),
    latency(r.app),
    fmt(r.baseline),
    latency(r.baseline),
    pct(r.ratio),
    `${r.atMost ? "<=" : ">="} ${pct(r.goal)}`,
    `${met(r) ? "met" : "NOT met"}${
      r.extra
        ? ` (${Object.entries(r.extra)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")})`
        : ""
    }`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function writeResults(
  file: string,
  run: {
    quick: boolean;
    startedAt: string;
    seconds: number;
    loadAverageAtStart: number;
    /** bench/startup.ts: figures without a baseline or goal. */
    startup?: object;
  },
  rows: Row[],
  skipped: Skipped[],
) {
  mkdirSync(dirname(file), { recursive: true });
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? "",
    node: process.version,
    // Other work on the machine moves every figure; the ratios hold up better.
    loadAverageAtEnd: loadavg()[0],
  };
  writeFileSync(file, `${JSON.stringify({ ...run, machine, rows, skipped }, null, 2)}\n`);
}

/** A run of requests as a figure of the table. */
export const figure = (r: LoadResult) => ({
  value: r.perSecond,
  unit: "req/s" as const,
  p50Ms: r.p50Ms,
  p99Ms: r.p99Ms,
});

/** The round in the middle by requests a second: a noisy round on either side does not count. */
export function median(results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
  return sorted[Math.floor(sorted.length / 2)] as LoadResult;
}
