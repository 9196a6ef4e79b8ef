import { AppError, invalidInput, tooLarge } from "../../core/errors.ts";
import type {
  ByteRange,
  ChunkedUploads,
  DirectUploads,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  SignedUrlOptions,
  StoredPart,
} from "../../core/ports.ts";
import { PartReader } from "../storage-s3/parts.ts";
import type { R2Bucket, R2Object } from "./binding.ts";

export type { R2Bucket } from "./binding.ts";

const MiB = 1024 * 1024;
/** R2 wants every part but the last the same size, and at least 5 MiB. */
const PART_SIZE = 8 * MiB;
const MAX_PARTS = 10_000;
/** Marker objects of a resumable upload through the Worker (see `chunkedUploads`). */
const UPLOAD_MARKER = ".upload";
const PARTS_PREFIX = ".parts/";

const partMarker = (key: string, partNumber: number) =>
  `${key}${PARTS_PREFIX}${String(partNumber).padStart(5, "0")}`;

export interface R2StoreOptions {
  /** The Worker's R2 bucket binding. */
  bucket: R2Bucket;
  /**
   * The same bucket through R2's S3 API (`<account>.r2.cloudflarestorage.com`, R2 API keys), for
   * presigned download URLs (redirect mode) and direct uploads: the runtime passes the S3 store.
   * Without it, files can only be streamed through the Worker (proxy mode).
   */
  s3?: ObjectStore;
}

/**
 * Private files in R2 through the Worker's bucket binding: no signing and no extra hop on the
 * proxy path. Bodies stream in both directions; uploads of more than one part go multipart, so
 * a Worker's memory holds at most one part whatever the file's size.
 */
export class R2BindingStore implements ObjectStore {
  readonly kind = "r2-binding";
  readonly #bucket: R2Bucket;
  readonly #s3: ObjectStore | undefined;

  constructor(opts: R2StoreOptions) {
    this.#bucket = opts.bucket;
    this.#s3 = opts.s3;
  }

  get directUploads(): DirectUploads | undefined {
    return this.#s3?.directUploads;
  }

  /**
   * Resumable uploads through the Worker (without R2 API keys): one R2 multipart upload per
   * object, each part stored with `uploadPart` as it arrives. The binding cannot list a multipart
   * upload's parts, so two kinds of small marker objects keep what resuming needs: `<key>.upload`
   * holds the R2 upload id (written at the start), `<key>.parts/NNNNN` each stored part's ETag
   * and size (written once R2 holds the part, so a killed request leaves no part counted as
   * arrived). R2 joins the parts itself on completion; the markers go with the upload.
   */
  get chunkedUploads(): ChunkedUploads {
    return {
      begin: (key, opts) => this.#beginParts(key, opts),
      putPart: (key, partNumber, body, size) => this.#putPart(key, partNumber, body, size),
      listParts: (key) => this.#listParts(key),
      completeParts: (key, count) => this.#completeParts(key, count),
      abortParts: (key) => this.#abortParts(key),
    };
  }

  async #beginParts(
    key: string,
    opts: { contentType: string; contentDisposition: string },
  ): Promise<void> {
    const upload = await this.#bucket.createMultipartUpload(key, { httpMetadata: opts });
    await this.#bucket.put(`${key}${UPLOAD_MARKER}`, upload.uploadId);
  }

  /** The upload's R2 multipart upload, or null when it was completed, aborted or never begun. */
  async #openParts(key: string) {
    const marker = await this.#bucket.get(`${key}${UPLOAD_MARKER}`);
    if (!marker) return null;
    const uploadId = await new Response(marker.body).text();
    return this.#bucket.resumeMultipartUpload(key, uploadId);
  }

  async #putPart(
    key: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    size: number,
  ): Promise<StoredPart> {
    const upload = await this.#openParts(key);
    if (!upload) throw invalidInput("This upload no longer exists in storage: start it again.");
    // One part (8 MiB) in memory: R2 wants a part's length before it takes it.
    const bytes = new Uint8Array(size);
    let written = 0;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (written + value.byteLength > size)
          throw invalidInput(`Part ${partNumber} has more than its ${size} bytes.`);
        bytes.set(value, written);
        written += value.byteLength;
      }
    } catch (error) {
      await reader.cancel(error).catch(() => {});
      throw error;
    } finally {
      reader.releaseLock();
    }
    if (written !== size)
      throw invalidInput(
        `Part ${partNumber} has ${written} bytes, not its ${size}: send it again.`,
      );
    const { etag } = await upload.uploadPart(partNumber, bytes);
    await this.#bucket.put(partMarker(key, partNumber), null, {
      customMetadata: { etag, size: String(size) },
    });
    return { partNumber, size, etag };
  }

  async #listParts(key: string): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    for (const object of await this.#partMarkers(key)) {
      const partNumber = Number(object.key.slice(`${key}${PARTS_PREFIX}`.length));
      const etag = object.customMetadata?.etag;
      const size = Number(object.customMetadata?.size);
      if (Number.isInteger(partNumber) && partNumber > 0 && etag && Number.isInteger(size))
        parts.push({ partNumber, size, etag });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** R2 joins parts 1..count itself: no byte passes through the Worker. */
  async #completeParts(key: string, count: number): Promise<{ size: number }> {
    const upload = await this.#openParts(key);
    if (!upload) throw invalidInput("This upload no longer exists in storage: start it again.");
    const byNumber = new Map((await this.#listParts(key)).map((p) => [p.partNumber, p]));
    const parts: { partNumber: number; etag: string }[] = [];
    for (let n = 1; n <= count; n++) {
      const part = byNumber.get(n);
      if (!part) throw invalidInput(`Part ${n} has not arrived: send it, then complete.`);
      parts.push({ partNumber: n, etag: part.etag });
    }
    const object = await upload.complete(parts);
    await this.#dropMarkers(key);
    return { size: object.size };
  }

  async #abortParts(key: string): Promise<void> {
    const upload = await this.#openParts(key);
    if (upload) await upload.abort().catch(() => {});
    await this.#dropMarkers(key);
  }

  async #partMarkers(key: string): Promise<R2Object[]> {
    const objects: R2Object[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#bucket.list({
        prefix: `${key}${PARTS_PREFIX}`,
        include: ["customMetadata"],
        ...(cursor ? { cursor } : {}),
      });
      objects.push(...page.objects);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return objects;
  }

  /** Removes the upload's markers, the part markers first (the upload marker names the upload). */
  async #dropMarkers(key: string): Promise<void> {
    const keys = (await this.#partMarkers(key)).map((o) => o.key);
    for (let i = 0; i < keys.length; i += 1000) await this.#bucket.delete(keys.slice(i, i + 1000));
    await this.#bucket.delete(`${key}${UPLOAD_MARKER}`);
  }

  async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    opts: PutOptions,
  ): Promise<{ size: number }> {
    const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const partSize = Number.isFinite(limit)
      ? Math.max(PART_SIZE, Math.ceil(limit / MAX_PARTS / MiB) * MiB)
      : PART_SIZE;
    const httpMetadata = {
      contentType: opts.contentType,
      contentDisposition: opts.contentDisposition,
    };
    const reader = body.getReader();
    const parts = new PartReader(reader, partSize, limit);
    let upload: Awaited<ReturnType<R2Bucket["createMultipartUpload"]>> | null = null;
    try {
      let part = await parts.next();
      if (part.last) {
        await this.#bucket.put(key, part.bytes, { httpMetadata });
        return { size: parts.total };
      }
      upload = await this.#bucket.createMultipartUpload(key, { httpMetadata });
      const uploaded: { partNumber: number; etag: string }[] = [];
      for (let partNumber = 1; ; partNumber++) {
        if (partNumber > MAX_PARTS)
          throw tooLarge(`The file needs more than ${MAX_PARTS} parts of ${partSize} bytes.`);
        uploaded.push(await upload.uploadPart(partNumber, part.bytes));
        if (part.last) break;
        part = await parts.next();
      }
      await upload.complete(uploaded);
      return { size: parts.total };
    } catch (error) {
      await reader.cancel(error).catch(() => {});
      // Nothing becomes visible before complete, so aborting leaves the key as it was.
      if (upload) await upload.abort().catch(() => {});
      throw error;
    } finally {
      reader.releaseLock();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const object = await this.#bucket.head(key);
    return object ? infoOf(object) : null;
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    if (range && (range.start < 0 || range.end < range.start))
      throw new AppError("range_not_satisfiable", "The requested range is not satisfiable.");
    let object: Awaited<ReturnType<R2Bucket["get"]>>;
    try {
      object = await this.#bucket.get(
        key,
        range ? { range: { offset: range.start, length: range.end - range.start + 1 } } : {},
      );
    } catch (error) {
      // R2 throws for a range that starts at or past the end instead of answering it.
      const info = range ? await this.#bucket.head(key).catch(() => null) : null;
      if (range && info && range.start >= info.size)
        throw new AppError("range_not_satisfiable", "The requested range is not satisfiable.");
      throw error;
    }
    if (!object) return null;
    const info = infoOf(object);
    if (!range) return { ...info, body: object.body };
    // R2 clips a range that runs past the end; report the bytes the body really holds.
    const end = Math.min(range.end, object.size - 1);
    if (range.start > end) {
      await object.body.cancel();
      throw new AppError("range_not_satisfiable", "The requested range is not satisfiable.");
    }
    return { ...info, body: object.body, range: { start: range.start, end } };
  }

  async delete(key: string): Promise<void> {
    await this.#bucket.delete(key);
  }

  /** A SigV4 URL on R2's S3 endpoint; needs the R2 API keys (S3_ACCESS_KEY_ID and friends). */
  async signedUrl(key: string, opts: SignedUrlOptions): Promise<string> {
    if (!this.#s3)
      throw new Error(
        "redirect mode on R2 needs R2 API keys (S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) and R2_ACCOUNT_ID or S3_ENDPOINT",
      );
    return this.#s3.signedUrl(key, opts);
  }

  /** The binding answers a listing (the bucket exists and is bound); no write probe needed. */
  async check(): Promise<void> {
    await this.#bucket.list({ limit: 1 });
  }
}

function infoOf(object: R2Object): ObjectInfo {
  return {
    size: object.size,
    contentType: object.httpMetadata?.contentType ?? "application/octet-stream",
    etag: object.httpEtag,
  };
}
