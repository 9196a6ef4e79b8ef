import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { SingleBar } from "cli-progress";
import { addAsset } from "../../core/catalog/assets.ts";
import { isQuarantined, scanText } from "../../core/catalog/scan.ts";
import { invalidInput } from "../../core/errors.ts";
import type { Asset } from "../../db/schema.ts";
import { formatBytes } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";
import { uploadInParts } from "./resumableUpload.ts";

const PART_SIZE = 8 * 1024 * 1024;

export function assetAdd(
  slug: string,
  file: string,
  opts: { contentType?: string; name?: string; resume?: boolean },
) {
  return withRuntime(async ({ systemCtx }) => {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw invalidInput(`${file} is not a file.`);
    const bar = new SingleBar({
      format:
        "Uploading [{bar}] {percentage}% | {done} of {total_size} | {speed} | {time_left} left",
      hideCursor: true,
      noTTYOutput: Boolean(process.env.TOLLGATE_PROGRESS),
    });
    let started = Date.now();
    let done = 0;
    let base = 0;
    let barOn = false;
    const show = () => {
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      const speed = (done - base) / seconds;
      const left = speed > 0 ? (info.size - done) / speed : Number.NaN;
      bar.update(done, {
        done: formatBytes(done),
        speed: `${formatBytes(speed)}/s`,
        time_left: formatSeconds(left),
      });
    };
    const startBar = (already: number) => {
      started = Date.now();
      done = already;
      base = already;
      barOn = true;
      bar.start(info.size, already, {
        done: formatBytes(already),
        total_size: formatBytes(info.size),
        speed: "",
        time_left: "?",
      });
    };
    const filename = opts.name ?? basename(file);
    const contentType = opts.contentType ?? null;
    try {
      let asset: Asset | null = null;
      if (info.size > PART_SIZE || opts.resume) {
        asset = await uploadInParts({
          ctx: systemCtx,
          slug,
          file,
          size: info.size,
          mtimeMs: info.mtimeMs,
          filename,
          contentType,
          resume: Boolean(opts.resume),
          progress: {
            start: (_total, already) => startBar(already),
            sent: (bytes) => {
              done += bytes;
              show();
            },
            note: (text) => console.error(text),
          },
        });
      }
      if (!asset) {
        startBar(0);
        const progress = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            done += chunk.byteLength;
            show();
            controller.enqueue(chunk);
          },
        });
        const body = (
          Readable.toWeb(
            createReadStream(file, { highWaterMark: 1024 * 1024 }),
          ) as ReadableStream<Uint8Array>
        ).pipeThrough(progress);
        asset = await addAsset({
          ctx: systemCtx,
          input: { productSlug: slug, filename, contentType, body },
        });
      }
      if (barOn) {
        done = info.size;
        show();
        bar.stop();
      }
      console.log(`Uploaded ${asset.filename} (version ${asset.version}) to ${slug}`);
      console.log(`  id      ${asset.id}`);
      console.log(`  size    ${formatBytes(asset.size)} (${asset.size} bytes)`);
      console.log(`  sha256  ${asset.sha256}`);
      // With CLAMD_URL: what the malware scan said; a quarantined file fails the command.
      if (asset.scan_status) console.log(`  scan    ${scanText(asset)}`);
      if (isQuarantined(asset)) process.exitCode = 1;
    } catch (error) {
      if (barOn) bar.stop();
      throw error;
    }
  });
}

/** 75 -> "1m 15s"; unknown -> "?". */
function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
