import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { SingleBar } from "cli-progress";
import { addAsset } from "../../core/catalog/assets.ts";
import { invalidInput } from "../../core/errors.ts";
import { formatBytes } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";

export function assetAdd(
  slug: string,
  file: string,
  opts: { contentType?: string; name?: string },
) {
  return withRuntime(async ({ systemCtx }) => {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw invalidInput(`${file} is not a file.`);
    const bar = new SingleBar({
      format: "Uploading [{bar}] {percentage}% | {done} of {total_size} | {speed}",
      hideCursor: true,
      noTTYOutput: Boolean(process.env.TOLLGATE_PROGRESS),
    });
    const started = Date.now();
    let done = 0;
    bar.start(info.size, 0, { done: "0 B", total_size: formatBytes(info.size), speed: "" });
    const progress = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        done += chunk.byteLength;
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        bar.update(done, { done: formatBytes(done), speed: `${formatBytes(done / seconds)}/s` });
        controller.enqueue(chunk);
      },
    });
    const body = (
      Readable.toWeb(
        createReadStream(file, { highWaterMark: 1024 * 1024 }),
      ) as ReadableStream<Uint8Array>
    ).pipeThrough(progress);
    try {
      const asset = await addAsset({
        ctx: systemCtx,
        input: {
          productSlug: slug,
          filename: opts.name ?? basename(file),
          contentType: opts.contentType ?? null,
          body,
        },
      });
      bar.update(info.size, { done: formatBytes(info.size) });
      bar.stop();
      console.log(`Uploaded ${asset.filename} (version ${asset.version}) to ${slug}`);
      console.log(`  id      ${asset.id}`);
      console.log(`  size    ${formatBytes(asset.size)} (${asset.size} bytes)`);
      console.log(`  sha256  ${asset.sha256}`);
    } catch (error) {
      bar.stop();
      throw error;
    }
  });
}
