import { contentDisposition } from "../../core/contentDisposition.ts";
import { AppError, invalidInput, tooLarge } from "../../core/errors.ts";
import type {
  ByteRange,
  DirectUploads,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  SignedUrlOptions,
  StoredPart,
} from "../../core/ports.ts";
import { type Part, PartReader } from "./parts.ts";
import { S3Presigner, type SigningCrypto, toHex } from "./presign.ts";

export { S3Presigner, type SigningCrypto, signingCryptoFromPort } from "./presign.ts";

const MiB = 1024 * 1024;
/** S3 refuses parts under 5 MiB (except the last); R2 wants every part but the last the same size. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;
const CHECK_TIMEOUT_MS = 10_000;
/**
 * How long a request waits for the store to start answering. A store that takes the connection
 * and never answers must not hold a buyer's download open forever. A request with a body (a part
 * of up to partSize) gets longer, since the body goes first. Once the answer starts, its body may
 * stream for as long as it takes.
 */
const RESPONSE_TIMEOUT_MS = 10_000;
const UPLOAD_RESPONSE_TIMEOUT_MS = 120_000;
/** How long a successful write probe in check() is trusted (readiness probes come often). */
const WRITE_PROBE_TTL_MS = 10 * 60_000;

export interface S3StoreOptions {
  /** `https://<account>.r2.cloudflarestorage.com`, `https://s3.eu-west-1.amazonaws.com`, MinIO... */
  endpoint: string;
  bucket: string;
  /** `auto` for R2. */
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** HMAC and SHA-256 for presigned URLs: node:crypto on Node (./node.ts), the port on Workers. */
  signingCrypto: SigningCrypto;
  /** The clock presigned URLs are dated with (epoch ms). Requests to the store use real time. */
  now?: () => number;
  /** Bytes per multipart part (at least 5 MiB; grown when maxBytes needs more than 10,000 parts). */
  partSize?: number;
  /**
   * Parts uploaded at once. Memory is about partSize x (2 x this + 1): a part on its way is kept
   * for a retry and fetch copies it; one more is being cut from the stream.
   */
  partConcurrency?: number;
  /** Retries of a request the store answered with 429 or 5xx (or lost on the way, if idempotent). */
  retries?: number;
  style?: "path" | "virtual";
}

export interface PresignedPut {
  url: string;
  /** Headers the uploader must send exactly like this: they are part of the signature. */
  headers: Record<string, string>;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** The store's own answer to a request that failed: status and S3 error code in words. */
export class S3Error extends Error {
  override readonly name = "S3Error";
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly requestId: string | null,
  ) {
    super(`S3 ${operation} failed: ${status} ${code}${detail ? `: ${detail}` : ""}`);
  }
}

/**
 * Private files in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO). Requests are signed
 * with our own SigV4 headers; download URLs with our own presigner (the hot path, DESIGN section 12).
 * Uploads stream: they are cut into parts as the bytes arrive, so memory stays bounded by the
 * part size, and anything over one part goes multipart.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = "s3";
  readonly presigner: S3Presigner;
  readonly #opts: S3StoreOptions;
  readonly #now: () => number;
  readonly #partSize: number;
  readonly #concurrency: number;
  readonly #retries: number;
  #writeProbedAt = Number.NEGATIVE_INFINITY;

  constructor(opts: S3StoreOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#partSize = Math.max(MIN_PART_SIZE, opts.partSize ?? 8 * MiB);
    this.#concurrency = Math.max(1, opts.partConcurrency ?? 4);
    this.#retries = Math.max(0, opts.retries ?? 2);
    this.presigner = new S3Presigner({
      endpoint: opts.endpoint,
      bucket: opts.bucket,
      region: opts.region,
      credentials: {
        accessKeyId: opts.accessKeyId,
        secretAccessKey: opts.secretAccessKey,
        ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}),
      },
      crypto: opts.signingCrypto,
      style: opts.style ?? "path",
    });
  }

  /**
   * The presigned-upload methods below, as the core sees them: equal parts sized like put()'s,
   * and a refused completion (wrong ETag, too small a part, unknown upload) as invalid_input.
   */
  get directUploads(): DirectUploads {
    return {
      origin: new URL(this.presigner.objectUrl("x")).origin,
      partSizeFor: (size) => this.#partSizeFor(size),
      presignPut: (key, opts) => this.presignPut(key, opts),
      createMultipartUpload: (key, opts) => this.createMultipartUpload(key, opts),
      presignPart: (key, uploadId, partNumber, opts) =>
        this.presignPart(key, uploadId, partNumber, opts),
      completeMultipartUpload: async (key, uploadId, parts) => {
        try {
          await this.completeMultipartUpload(key, uploadId, parts);
        } catch (error) {
          const refused = ["InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload"];
          if (error instanceof S3Error && refused.includes(error.code))
            throw invalidInput(
              `The storage refused to complete the upload (${error.code}${error.detail ? `: ${error.detail}` : ""}).`,
            );
          throw error;
        }
      },
      abortMultipartUpload: (key, uploadId) => this.abortMultipartUpload(key, uploadId),
      listParts: (key, uploadId) => this.listParts(key, uploadId),
    };
  }

  async put(
    key: string,
    body: ReadableStream<Uint8Array>,
    opts: PutOptions,
  ): Promise<{ size: number }> {
    const url = this.#objectUrl(key);
    const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const reader = body.getReader();
    const parts = new PartReader(reader, this.#partSizeFor(limit), limit);
    let uploadId: string | null = null;
    try {
      const first = await parts.next();
      if (first.last) {
        await this.#putObject(url, first.bytes, opts);
        return { size: parts.total };
      }
      uploadId = await this.createMultipartUpload(key, opts);
      const uploaded = await this.#uploadParts(key, uploadId, first, parts);
      await this.completeMultipartUpload(key, uploadId, uploaded);
      return { size: parts.total };
    } catch (error) {
      await reader.cancel(error).catch(() => {});
      // Nothing becomes visible before complete, so aborting leaves the key as it was.
      if (uploadId) await this.abortMultipartUpload(key, uploadId).catch(() => {});
      throw error;
    } finally {
      reader.releaseLock();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const res = await this.#send("HEAD object", this.#objectUrl(key), { method: "HEAD" });
    if (res.status === 404) return null;
    if (!res.ok) throw await s3Error("HEAD object", res);
    return infoOf(res, Number(res.headers.get("content-length")));
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    const headers: Record<string, string> = range
      ? { range: `bytes=${range.start}-${range.end}` }
      : {};
    const res = await this.#send("GET object", this.#objectUrl(key), { method: "GET", headers });
    if (res.status === 404) {
      const error = await s3Error("GET object", res);
      if (error.code === "NoSuchBucket") throw error;
      return null;
    }
    if (res.status === 416) {
      await res.body?.cancel();
      throw new AppError("range_not_satisfiable", "The requested range is not satisfiable.");
    }
    if (!res.ok || !res.body) throw await s3Error("GET object", res);
    if (res.status === 206) {
      const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
      if (!match) {
        await res.body.cancel();
        throw new Error(`S3 GET object: 206 without a usable Content-Range for ${key}`);
      }
      return {
        ...infoOf(res, Number(match[3])),
        body: res.body,
        range: { start: Number(match[1]), end: Number(match[2]) },
      };
    }
    const size = Number(res.headers.get("content-length"));
    return {
      ...infoOf(res, size),
      body: res.body,
      // A store that ignored the Range header sent the whole object: say so.
      ...(range ? { range: { start: 0, end: size - 1 } } : {}),
    };
  }

  async delete(key: string): Promise<void> {
    const res = await this.#send("DELETE object", this.#objectUrl(key), { method: "DELETE" });
    if (!res.ok && res.status !== 404) throw await s3Error("DELETE object", res);
    await res.body?.cancel();
  }

  /** A GET URL that answers with the product's file name and type, signed with SigV4. */
  async signedUrl(key: string, opts: SignedUrlOptions): Promise<string> {
    checkKey(key);
    return this.presigner.presignGet(key, {
      expiresInSeconds: opts.expiresInSeconds,
      now: this.#now(),
      // Also stored on the object at upload: R2 does not promise to honour the override.
      responseContentDisposition: contentDisposition(opts.filename),
      responseContentType: opts.contentType,
    });
  }

  /**
   * Lists at most one key (the bucket exists, the keys are valid and may read) and, at most every
   * ten minutes, writes and deletes a small probe object (the keys may write).
   */
  async check(): Promise<void> {
    const list = `${this.presigner.bucketUrl()}?list-type=2&max-keys=1`;
    const res = await this.#send("list bucket", list, { method: "GET" }, CHECK_TIMEOUT_MS);
    if (!res.ok) throw this.#explain(await s3Error("list bucket", res));
    await res.body?.cancel();
    if (this.#now() - this.#writeProbedAt < WRITE_PROBE_TTL_MS) return;
    const probe = `tollgate-probe/${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
    const url = this.#objectUrl(probe);
    const put = await this.#send(
      "PUT probe",
      url,
      { method: "PUT", headers: { "content-type": "text/plain" }, body: new Uint8Array(0) },
      CHECK_TIMEOUT_MS,
    );
    if (!put.ok) throw this.#explain(await s3Error("PUT probe object", put));
    await put.body?.cancel();
    await this.delete(probe);
    this.#writeProbedAt = this.#now();
  }

  /**
   * A URL the browser or CLI can PUT one object to directly. The returned headers are signed in
   * and must be sent as they are; with `contentLength`, exactly that many bytes are accepted.
   */
  async presignPut(
    key: string,
    opts: {
      expiresInSeconds: number;
      contentType: string;
      contentDisposition: string;
      contentLength?: number;
    },
  ): Promise<PresignedPut> {
    checkKey(key);
    const headers: Record<string, string> = {
      "content-type": opts.contentType,
      "content-disposition": opts.contentDisposition,
    };
    if (opts.contentLength !== undefined) headers["content-length"] = String(opts.contentLength);
    const url = await this.presigner.presign({
      method: "PUT",
      key,
      expiresInSeconds: opts.expiresInSeconds,
      now: this.#now(),
      headers,
    });
    return { url, headers };
  }

  /** Starts a multipart upload; the object will carry this type and disposition. */
  async createMultipartUpload(
    key: string,
    opts: { contentType: string; contentDisposition: string },
  ): Promise<string> {
    const res = await this.#send("create multipart upload", `${this.#objectUrl(key)}?uploads`, {
      method: "POST",
      headers: { "content-type": opts.contentType, "content-disposition": opts.contentDisposition },
    });
    if (!res.ok) throw await s3Error("create multipart upload", res);
    const uploadId = xmlText(await res.text(), "UploadId");
    if (!uploadId) throw new Error("S3 create multipart upload: no UploadId in the answer");
    return uploadId;
  }

  /** A URL to PUT part `partNumber` (1 to 10,000) of a multipart upload to. */
  async presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    opts: { expiresInSeconds: number; contentLength?: number },
  ): Promise<string> {
    checkKey(key);
    checkPartNumber(partNumber);
    return this.presigner.presign({
      method: "PUT",
      key,
      expiresInSeconds: opts.expiresInSeconds,
      now: this.#now(),
      query: { partNumber: String(partNumber), uploadId },
      ...(opts.contentLength !== undefined
        ? { headers: { "content-length": String(opts.contentLength) } }
        : {}),
    });
  }

  /** Joins the uploaded parts into the object; only now does it appear under the key. */
  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
  ): Promise<{ etag: string | null }> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const xml = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${sorted
      .map(
        (p) =>
          `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`,
      )
      .join("")}</CompleteMultipartUpload>`;
    const res = await this.#send(
      "complete multipart upload",
      `${this.#objectUrl(key)}?uploadId=${encodeURIComponent(uploadId)}`,
      {
        method: "POST",
        headers: { "content-type": "application/xml" },
        body: new TextEncoder().encode(xml),
      },
    );
    const text = await res.text();
    // S3 may answer 200 and still report an error in the body.
    const code = xmlText(text, "Code");
    if (!res.ok || (code && /<Error>/.test(text)))
      throw new S3Error(
        "complete multipart upload",
        res.status,
        code ?? `HTTP ${res.status}`,
        xmlText(text, "Message") ?? "",
        xmlText(text, "RequestId"),
      );
    return { etag: xmlText(text, "ETag") };
  }

  /**
   * The parts of an unfinished multipart upload that have arrived (ListParts, a page of up to
   * 1,000 at a time), in part-number order; null when the store knows no such upload.
   */
  async listParts(key: string, uploadId: string): Promise<StoredPart[] | null> {
    const parts: StoredPart[] = [];
    let marker = 0;
    for (let page = 0; page <= MAX_PARTS / 1000; page++) {
      const url = `${this.#objectUrl(key)}?max-parts=1000&part-number-marker=${marker}&uploadId=${encodeURIComponent(uploadId)}`;
      const res = await this.#send("list parts", url, { method: "GET" });
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw await s3Error("list parts", res);
      const xml = await res.text();
      for (const match of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
        const part = match[1] ?? "";
        const partNumber = Number(xmlText(part, "PartNumber"));
        const size = Number(xmlText(part, "Size"));
        const etag = xmlText(part, "ETag");
        if (!Number.isInteger(partNumber) || !Number.isSafeInteger(size) || !etag)
          throw new Error("S3 list parts: a part without its number, size or ETag");
        parts.push({ partNumber, size, etag });
      }
      const next = Number(xmlText(xml, "NextPartNumberMarker"));
      if (xmlText(xml, "IsTruncated") !== "true" || !Number.isInteger(next) || next <= marker)
        break;
      marker = next;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const res = await this.#send(
      "abort multipart upload",
      `${this.#objectUrl(key)}?uploadId=${encodeURIComponent(uploadId)}`,
      { method: "DELETE" },
    );
    if (!res.ok && res.status !== 404) throw await s3Error("abort multipart upload", res);
    await res.body?.cancel();
  }

  async #putObject(url: string, bytes: Uint8Array, opts: PutOptions): Promise<void> {
    const res = await this.#send("PUT object", url, {
      method: "PUT",
      headers: { "content-type": opts.contentType, "content-disposition": opts.contentDisposition },
      body: bytes,
    });
    if (!res.ok) throw await s3Error("PUT object", res);
    await res.body?.cancel();
  }

  /** Uploads the parts as the reader cuts them, a few at a time; waits for all before returning. */
  async #uploadParts(
    key: string,
    uploadId: string,
    first: Part,
    parts: PartReader,
  ): Promise<UploadedPart[]> {
    const url = `${this.#objectUrl(key)}?uploadId=${encodeURIComponent(uploadId)}`;
    const uploaded: UploadedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | null = null;
    try {
      let part = first;
      for (let partNumber = 1; ; partNumber++) {
        if (partNumber > MAX_PARTS)
          throw tooLarge(`The file needs more than ${MAX_PARTS} parts of ${parts.partSize} bytes.`);
        const task: Promise<void> = this.#uploadPart(`${url}&partNumber=${partNumber}`, part.bytes)
          .then(
            (etag) => void uploaded.push({ partNumber, etag }),
            (error) => {
              failure ??= { error };
            },
          )
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
        while (inFlight.size >= this.#concurrency) await Promise.race(inFlight);
        if (failure) throw (failure as { error: unknown }).error;
        if (part.last) break;
        part = await parts.next();
      }
      await Promise.all(inFlight);
      if (failure) throw (failure as { error: unknown }).error;
      return uploaded;
    } finally {
      // On a failure, let the parts on their way settle before the caller aborts the upload.
      await Promise.allSettled(inFlight);
    }
  }

  async #uploadPart(url: string, bytes: Uint8Array): Promise<string> {
    const res = await this.#send("upload part", url, { method: "PUT", body: bytes });
    if (!res.ok) throw await s3Error("upload part", res);
    await res.body?.cancel();
    const etag = res.headers.get("etag");
    if (!etag) throw new Error("S3 upload part: no ETag in the answer");
    return etag;
  }

  /** Parts big enough that `limit` bytes fit in 10,000 of them, in whole MiB. */
  #partSizeFor(limit: number): number {
    if (!Number.isFinite(limit)) return this.#partSize;
    return Math.max(this.#partSize, Math.ceil(limit / MAX_PARTS / MiB) * MiB);
  }

  #objectUrl(key: string): string {
    checkKey(key);
    return this.presigner.objectUrl(key);
  }

  /**
   * Signs (header signing, presign.ts) and sends one request. Answers of 429 and 5xx are retried
   * with backoff; a request lost on the way is retried unless it is a POST. A request that got
   * no answer in time is not sent again: the store is hanging, and the caller has waited enough.
   */
  async #send(
    operation: string,
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: Uint8Array },
    timeoutMs = init.body?.byteLength ? UPLOAD_RESPONSE_TIMEOUT_MS : RESPONSE_TIMEOUT_MS,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.#retries;
      let res: Response;
      // Aborts only while waiting for the answer's headers; the timer is cleared once they arrive.
      const waiting = new AbortController();
      const timer = setTimeout(
        () => waiting.abort(new DOMException("no answer in time", "TimeoutError")),
        timeoutMs,
      );
      try {
        // Signed on the real clock, as the store checks it (the presigner's now is for URLs).
        const headers = await this.presigner.signHeaders(
          init.method,
          url,
          init.headers ?? {},
          Date.now(),
        );
        res = await fetch(url, {
          method: init.method,
          headers,
          // Never a SharedArrayBuffer view: parts are cut from stream chunks or fresh buffers.
          ...(init.body ? { body: init.body as Uint8Array<ArrayBuffer> } : {}),
          signal: waiting.signal,
        });
      } catch (error) {
        if (last || init.method === "POST" || waiting.signal.aborted)
          throw this.#unreachable(operation, error, timeoutMs);
        await backoff(attempt);
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (last || (res.status !== 429 && res.status < 500)) return res;
      await res.body?.cancel();
      await backoff(attempt);
    }
  }

  #unreachable(operation: string, error: unknown, timeoutMs?: number): Error {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const name = (error as { name?: string }).name;
    const why =
      name === "TimeoutError"
        ? `no answer within ${(timeoutMs ?? 0) / 1000} s`
        : (cause?.code ?? cause?.message ?? String(error));
    return new Error(`S3 endpoint ${this.#opts.endpoint} is not reachable (${operation}: ${why})`, {
      cause: error,
    });
  }

  /** What a failed check means for the seller, in words. */
  #explain(error: S3Error): Error {
    const { bucket, endpoint, region } = this.#opts;
    const words: Record<string, string> = {
      NoSuchBucket: `bucket "${bucket}" does not exist at ${endpoint}`,
      InvalidAccessKeyId: `S3_ACCESS_KEY_ID is not known to ${endpoint}`,
      SignatureDoesNotMatch:
        "S3_SECRET_ACCESS_KEY is wrong: the store refused the signature made with it",
      AccessDenied: `the keys are valid but may not list or write bucket "${bucket}"`,
      AuthorizationHeaderMalformed: `S3_REGION "${region}" is not this bucket's region (R2: auto)`,
      RequestTimeTooSkewed: "this machine's clock is more than 15 minutes off",
    };
    const text = words[error.code];
    return new Error(text ? `${text} (${error.status} ${error.code})` : error.message, {
      cause: error,
    });
  }
}

/**
 * Keys are ours (`products/<id>/<id>`), but any S3 key would do, except what a URL cannot carry
 * as it is: `.` and `..` segments (URL parsers fold them), control characters, a leading `/`.
 */
function checkKey(key: string): void {
  const ok =
    key.length > 0 &&
    new TextEncoder().encode(key).byteLength <= 1024 &&
    !key.startsWith("/") &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
    !/[\u0000-\u001f\u007f\\]/.test(key) &&
    !key.split("/").some((segment) => segment === "." || segment === "..");
  if (!ok) throw new Error(`invalid storage key: ${JSON.stringify(key).slice(0, 80)}`);
}

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS)
    throw new RangeError(`a part number is 1 to ${MAX_PARTS} (got ${partNumber})`);
}

function infoOf(res: Response, size: number): ObjectInfo {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new Error(`S3 answered ${res.status} without a usable object size`);
  const etag = res.headers.get("etag");
  return {
    size,
    contentType: res.headers.get("content-type") ?? "application/octet-stream",
    ...(etag ? { etag } : {}),
  };
}

async function s3Error(operation: string, res: Response): Promise<S3Error> {
  const text = res.body ? await res.text().catch(() => "") : "";
  const fallback: Record<number, string> = {
    400: "BadRequest",
    403: "AccessDenied",
    404: "NotFound",
  };
  return new S3Error(
    operation,
    res.status,
    xmlText(text, "Code") ?? fallback[res.status] ?? `HTTP${res.status}`,
    xmlText(text, "Message") ?? "",
    xmlText(text, "RequestId") ?? res.headers.get("x-amz-request-id"),
  );
}

/** The text of the first `<tag>` in a small S3 XML answer. */
function xmlText(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match?.[1] === undefined ? null : unescapeXml(match[1]);
}

function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    if (named[entity]) return named[entity];
    const code = entity.startsWith("#x")
      ? Number.parseInt(entity.slice(2), 16)
      : Number.parseInt(entity.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, (50 + Math.random() * 100) * 2 ** attempt));
}
