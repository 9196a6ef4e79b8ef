/**
 * `tollgate asset add` for files over one part (8 MiB): the same resumable flow as the seller
 * page (decision 0025). Parts of 8 MiB go four at a time, each to a URL signed as it starts
 * (straight to S3/R2), or through the shop's verb into the storage folder (local storage). The
 * upload id is kept in a small state file keyed by the file's path, size and modification time,
 * so `--resume` after a killed CLI asks which parts arrived and sends only the others. The whole
 * file's SHA-256 is computed alongside and checked by the completing call.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  abortUpload,
  completeUpload,
  putUploadPart,
  signUploadPart,
  startUpload,
  type UploadStatus,
  uploadStatus,
} from "../../core/catalog/uploads.ts";
import type { Ctx } from "../../core/context.ts";
import type { Asset } from "../../db/schema.ts";

/** Parts on their way at once. */
export const PART_CONCURRENCY = 4;
const PART_ATTEMPTS = 4;

export interface UploadState {
  uploadId: string;
  slug: string;
  file: string;
  size: number;
  mtimeMs: number;
  startedAt: number;
}

export interface Progress {
  /** Bytes already in storage before this run (resumed). */
  start(total: number, already: number): void;
  /** Bytes sent by this run so far. */
  sent(bytes: number): void;
  note(text: string): void;
}

/** Where the state of an upload of this file (path, size, mtime) to this product is kept. */
export function stateFileOf(slug: string, file: string, size: number, mtimeMs: number): string {
  const dir = process.env.TOLLGATE_UPLOAD_STATE_DIR || join(tmpdir(), "tollgate-uploads");
  const key = createHash("sha256")
    .update(`${slug}\n${resolve(file)}\n${size}\n${Math.floor(mtimeMs)}`)
    .digest("hex")
    .slice(0, 32);
  return join(dir, `${key}.json`);
}

async function readState(path: string): Promise<UploadState | null> {
  try {
    const state = JSON.parse(await readFile(path, "utf8")) as UploadState;
    return typeof state.uploadId === "string" ? state : null;
  } catch {
    return null;
  }
}

/**
 * Uploads `file` in parts, resuming the upload recorded for it when `resume` is set; returns the
 * file recorded, or null when the store cannot take uploads in parts (the caller streams it).
 */
export async function uploadInParts(opts: {
  ctx: Ctx;
  slug: string;
  file: string;
  size: number;
  mtimeMs: number;
  filename: string;
  contentType: string | null;
  resume: boolean;
  progress: Progress;
}): Promise<Asset | null> {
  const { ctx, slug, file, size, mtimeMs, progress } = opts;
  const statePath = stateFileOf(slug, file, size, mtimeMs);
  const previous = await readState(statePath);
  const statusOf = (uploadId: string) =>
    uploadStatus({ ctx, input: { productSlug: slug, uploadId } }).catch((error: Error) => error);

  let uploadId: string | null = null;
  let status: UploadStatus | null = null;
  if (previous) {
    const found = await statusOf(previous.uploadId);
    if (found instanceof Error) {
      if (opts.resume) progress.note(`Cannot resume (${found.message}) Starting over.`);
    } else if (opts.resume) {
      uploadId = previous.uploadId;
      status = found;
      progress.note(
        `Resuming: ${found.parts.length} of ${found.partCount} parts were already uploaded.`,
      );
    } else if (!found.assetId) {
      progress.note(
        `An interrupted upload of this file exists (${found.parts.length} of ${found.partCount} parts uploaded): \`--resume\` continues it. Starting over without it.`,
      );
      await abortUpload({ ctx, input: { productSlug: slug, uploadId: previous.uploadId } }).catch(
        () => {},
      );
    }
    if (!uploadId) await rm(statePath, { force: true });
  } else if (opts.resume) {
    progress.note("No interrupted upload of this file to resume: starting a new one.");
  }

  if (!uploadId) {
    const started = await startUpload({
      ctx,
      input: {
        productSlug: slug,
        filename: opts.filename,
        size,
        contentType: opts.contentType,
        resumable: true,
      },
    });
    if (started.kind !== "multipart" && started.kind !== "chunked") {
      // A single PUT (the file fits one part) or no uploads in parts: nothing to resume.
      if (started.uploadId)
        await abortUpload({ ctx, input: { productSlug: slug, uploadId: started.uploadId } });
      return null;
    }
    uploadId = started.uploadId;
    const state: UploadState = {
      uploadId,
      slug,
      file: resolve(file),
      size,
      mtimeMs,
      startedAt: Date.now(),
    };
    await mkdir(join(statePath, ".."), { recursive: true });
    await writeFile(statePath, JSON.stringify(state), { mode: 0o600 });
    status = await uploadStatus({ ctx, input: { productSlug: slug, uploadId } });
  }
  if (!status) throw new Error("no upload status");

  const id = uploadId;
  const hashing = hashFile(file);
  // A failure of the hashing is reported after the parts, not as an unhandled rejection.
  hashing.catch(() => {});
  if (!status.assetId) {
    const arrived = new Set(status.parts.map((p) => p.partNumber));
    const missing: number[] = [];
    for (let n = 1; n <= status.partCount; n++) if (!arrived.has(n)) missing.push(n);
    progress.start(size, status.uploadedBytes);
    const handle = await open(file, "r");
    try {
      await sendParts({
        ctx,
        slug,
        uploadId: id,
        kind: status.kind,
        partSize: status.partSize,
        size,
        missing,
        read: async (buffer, offset, length) => {
          let filled = 0;
          while (filled < length) {
            const { bytesRead } = await handle.read(
              buffer,
              filled,
              length - filled,
              offset + filled,
            );
            if (bytesRead === 0) throw new Error(`${file} changed while it was uploaded`);
            filled += bytesRead;
          }
          return buffer.subarray(0, length);
        },
        progress,
      });
    } finally {
      await handle.close();
    }
  }
  const sha256 = await hashing;
  const asset = await completeUpload({ ctx, input: { productSlug: slug, uploadId: id, sha256 } });
  await rm(statePath, { force: true });
  return asset;
}

async function sendParts(opts: {
  ctx: Ctx;
  slug: string;
  uploadId: string;
  kind: UploadStatus["kind"];
  partSize: number;
  size: number;
  missing: number[];
  /** Reads into `buffer` (one per part on its way, reused: memory stays four parts). */
  read: (buffer: Uint8Array, offset: number, length: number) => Promise<Uint8Array>;
  progress: Progress;
}): Promise<void> {
  const { ctx, slug, uploadId } = opts;
  const queue = [...opts.missing];
  const sendOne = async (partNumber: number, buffer: Uint8Array) => {
    const offset = (partNumber - 1) * opts.partSize;
    const length = Math.min(opts.partSize, opts.size - offset);
    const bytes = await opts.read(buffer, offset, length);
    for (let attempt = 1; ; attempt++) {
      try {
        if (opts.kind === "chunked") {
          await putUploadPart({
            ctx,
            input: { productSlug: slug, uploadId, partNumber },
            body: new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(),
          });
        } else {
          // Signed now, for this attempt: it cannot have expired on the way.
          const signed = await signUploadPart({
            ctx,
            input: { productSlug: slug, uploadId, partNumber },
          });
          const res = await fetch(signed.url, {
            method: "PUT",
            headers: signed.headers,
            body: bytes as Uint8Array<ArrayBuffer>,
          });
          await res.body?.cancel();
          if (!res.ok) throw new Error(`storage answered ${res.status} to part ${partNumber}`);
        }
        opts.progress.sent(length);
        return;
      } catch (error) {
        if (attempt >= PART_ATTEMPTS) throw error;
        await new Promise((done) => setTimeout(done, 250 * 2 ** attempt));
      }
    }
  };
  const worker = async () => {
    const buffer = new Uint8Array(opts.partSize);
    for (let next = queue.shift(); next !== undefined; next = queue.shift())
      await sendOne(next, buffer);
  };
  await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
}

/** The file's SHA-256, read once from start to end alongside the upload. */
function hashFile(file: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash("sha256");
    createReadStream(file, { highWaterMark: 1024 * 1024 })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", fail)
      .on("end", () => done(hash.digest("hex")));
  });
}
