/**
 * PDF stamping (issue 19, decision 0026): a 200-page PDF stamped as the shop stamps a buyer's copy
 * (src/adapters/stamper-pdflib: load, a line and the invisible trace id on every page, an
 * incremental update), against the least any pdf-lib stamper does (load and save the whole
 * document again). Pages a second, and the peak memory over what the process held before, which
 * must stay within a few times the PDF's own size (the library reads the whole file).
 */
import { randomBytes } from "node:crypto";
import { PDFDocument, StandardFonts } from "@cantoo/pdf-lib";
import { pdfLibStamper } from "../src/adapters/stamper-pdflib/index.ts";
import type { Row } from "./report.ts";
import type { Options } from "./setup.ts";

const MiB = 1024 * 1024;
const PAGES = 200;
/** Peak memory of one stamp, at most this many times the PDF's size (plus the library's own 16 MiB). */
const MEMORY_GOAL = { timesFile: 4, fixedMiB: 16 };

/** A 200-page PDF of text: one block of lines a page, as a typesetter writes it. */
async function book(quick: boolean): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const lines = quick ? 20 : 45;
  for (let p = 1; p <= PAGES; p++) {
    const text = Array.from(
      { length: lines },
      (_, l) => `${p}.${l} ${randomBytes(36).toString("base64")}`,
    ).join("\n");
    doc.addPage().drawText(text, { x: 40, y: 790, size: 10, lineHeight: 16, font });
  }
  return doc.save();
}

/** Runs `work`, sampling heap and buffers every millisecond: the peak over the start, in bytes. */
async function peakOf(work: () => Promise<unknown>): Promise<{ ms: number; peak: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const start = used();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, used());
  }, 1);
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { ms, peak: Math.max(peak, used()) - start };
}

export async function stampingBenchmark(opts: Options): Promise<Row> {
  const pdf = await book(opts.quick);
  const stamper = pdfLibStamper();
  const stamp = {
    text: "Licensed to reader@example.com, order 7KQ4M-2ZPXA",
    traceId: "0".repeat(32),
  };
  // The library and its font metrics load once per process: not part of a copy.
  await stamper.stamp(pdf, stamp);
  const rounds = opts.quick ? 1 : 3;
  let app = Number.POSITIVE_INFINITY;
  let base = Number.POSITIVE_INFINITY;
  let peak = 0;
  for (let i = 0; i < rounds; i++) {
    const ours = await peakOf(() => stamper.stamp(pdf, stamp));
    app = Math.min(app, ours.ms);
    peak = Math.max(peak, ours.peak);
    const plain = await peakOf(async () => (await PDFDocument.load(pdf)).save());
    base = Math.min(base, plain.ms);
  }
  const appRate = PAGES / (app / 1000);
  const baseRate = PAGES / (base / 1000);
  const limit = MEMORY_GOAL.timesFile * pdf.byteLength + MEMORY_GOAL.fixedMiB * MiB;
  return {
    benchmark: "PDF stamping (200 pages)",
    database: "-",
    storage: "-",
    app: { value: appRate, unit: "events/s" },
    baseline: { value: baseRate, unit: "events/s" },
    ratio: appRate / baseRate,
    goal: 0.1,
    extra: {
      "PDF MiB": Number((pdf.byteLength / MiB).toFixed(2)),
      "ms a copy": Math.round(app),
      "peak MiB": Number((peak / MiB).toFixed(1)),
    },
    checks: {
      [`peak < ${MEMORY_GOAL.timesFile}× the PDF + ${MEMORY_GOAL.fixedMiB} MiB`]: peak < limit,
    },
  };
}
