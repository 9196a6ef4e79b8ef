/**
 * Large files go from the seller's client straight to the bucket (DESIGN section 14): a start call
 * hands out a signed upload id (and, for one part, its presigned PUT); each part's URL is signed
 * when the client starts that part (`signUploadPart`, valid for an hour), so no URL can expire
 * in the middle of an upload however long it takes; the completing call checks what arrived,
 * hashes it back from storage, compares it with the SHA-256 the client computed, and records it.
 * With local storage or only an R2 binding the parts go through the app (`putUploadPart`).
 * `uploadStatus` tells which parts already arrived, so a killed CLI or closed tab resumes.
 * The upload id is an HMAC-signed token carrying everything the completing call needs, so no
 * table holds pending uploads and a client cannot choose the storage key, product or size
 * (decision 0025).
 */

import type { Asset } from "../../db/schema.ts";
import { contentDisposition } from "../contentDisposition.ts";
import { type Ctx, newId, requireAdmin } from "../context.ts";
import { timingSafeEqual, toBase64Url } from "../encoding.ts";
import { invalidInput, tooLarge, unprocessable } from "../errors.ts";
import type { StoredPart } from "../ports.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { assetStorageKey, findAsset, recordStoredAsset } from "./assets.ts";
import { safeContentType, sanitizeFilename } from "./filenames.ts";
import { getProductForAdmin } from "./products.ts";

/**
 * How long a presigned URL works: one part (8 MiB) or one small file, signed when it starts, so an
 * hour is plenty even on a slow line; a part that needs longer is simply signed again.
 */
export const UPLOAD_URL_TTL_SECONDS = 3600;
/** How long a single-PUT upload may take to complete. */
const PUT_LIFETIME_MS = 24 * 3600_000;
/** How long a multipart or chunked upload may be resumed and completed (R2 and S3 keep parts). */
export const RESUMABLE_LIFETIME_MS = 7 * 24 * 3600_000;
/** The completing call is accepted a little longer than announced. */
const COMPLETE_GRACE_MS = 3600_000;
/** Parts of uploads through the app (local folder, R2 binding). */
export const CHUNK_PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;
const TOKEN_PREFIX = "up1.";

export const startUploadSchema = z.object({
  productSlug: z.string().check(z.minLength(1)),
  filename: z
    .string({ message: "is required" })
    .check(z.minLength(1, "is required"), z.maxLength(1000)),
  size: z
    .number({ message: "must be the file's size in bytes" })
    .check(
      z.int("must be a whole number of bytes"),
      z.minimum(0, "must be the file's size in bytes"),
      z.maximum(Number.MAX_SAFE_INTEGER),
    ),
  contentType: z.optional(z.nullable(z.string().check(z.maxLength(255)))),
  /**
   * A client that signs each part as it starts it (and may resume) says so: multipart answers then
   * carry no part URLs, and local storage takes the file in parts through the app.
   */
  resumable: z.optional(z.boolean()),
});

const uploadIdField = z
  .string({ message: "is required" })
  .check(z.minLength(1, "is required"), z.maxLength(4096));

export const signUploadPartSchema = z.object({
  productSlug: z.string().check(z.minLength(1)),
  uploadId: uploadIdField,
  partNumber: z
    .number({ message: "must be a part number from 1" })
    .check(z.int("must be a whole number"), z.minimum(1), z.maximum(MAX_PARTS)),
});

export const uploadStatusSchema = z.object({
  productSlug: z.string().check(z.minLength(1)),
  uploadId: uploadIdField,
});

export const putUploadPartSchema = z.object({
  productSlug: z.string().check(z.minLength(1)),
  uploadId: uploadIdField,
  partNumber: z.coerce
    .number({ message: "must be a part number from 1" })
    .check(z.int("must be a whole number"), z.minimum(1), z.maximum(MAX_PARTS)),
});

export const completeUploadSchema = z.object({
  productSlug: z.string().check(z.minLength(1)),
  uploadId: z
    .string({ message: "is required" })
    .check(z.minLength(1, "is required"), z.maxLength(4096)),
  parts: z.optional(
    z
      .array(
        z.object({
          partNumber: z.number().check(z.int(), z.minimum(1), z.maximum(MAX_PARTS)),
          etag: z.string().check(z.minLength(1), z.maxLength(200)),
        }),
      )
      .check(z.maxLength(MAX_PARTS)),
  ),
  /** The SHA-256 of the whole file as the client computed it: a mismatch publishes nothing. */
  sha256: z.optional(
    z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, "must be the file's SHA-256 in 64 hex digits")),
  ),
});

export const abortUploadSchema = z.object({
  productSlug: z.string().check(z.minLength(1)),
  uploadId: z
    .string({ message: "is required" })
    .check(z.minLength(1, "is required"), z.maxLength(4096)),
});

/** What the signed upload id carries. */
const claimsSchema = z.object({
  /** Asset id, also the last segment of the storage key. */
  a: z.string(),
  /** Product id. */
  p: z.string(),
  k: z.string(),
  f: z.string(),
  t: z.string(),
  /** Declared size in bytes. */
  s: z.number().check(z.int(), z.minimum(0)),
  /** Multipart: the store's upload id and the part size; null for a single PUT. */
  m: z.nullable(z.object({ id: z.string(), ps: z.number().check(z.int(), z.positive()) })),
  /** Chunked through the app (local storage): the part size. */
  c: z.optional(z.number().check(z.int(), z.positive())),
  /** Started by a resumable client: completing without ETags lists the parts from the store. */
  r: z.optional(z.literal(1)),
  /** Expiry of the completing call, epoch ms. */
  e: z.number(),
});
type UploadClaims = z.output<typeof claimsSchema>;

export type StartedUpload =
  | {
      kind: "put";
      uploadId: string;
      url: string;
      /** Signed in: send exactly these (and exactly `size` bytes). */
      headers: Record<string, string>;
      /** When the URL stops working. */
      expiresAt: number;
    }
  | {
      kind: "multipart";
      uploadId: string;
      partSize: number;
      partCount: number;
      /**
       * Only for clients that did not say `resumable`: each part's URL, signed for an hour like
       * one signed on demand (kept so older clients still work; decision 0025).
       */
      parts?: { partNumber: number; url: string; size: number }[];
      /** Until when the upload can be resumed and completed. */
      expiresAt: number;
    }
  /** Resumable parts through the app (local storage, R2 binding): PUT each to `putUploadPart`. */
  | { kind: "chunked"; uploadId: string; partSize: number; partCount: number; expiresAt: number }
  /** The store cannot presign (local folder, R2 binding): upload through the app instead. */
  | { kind: "local"; uploadId: null; url: string };

export interface SignedPart {
  partNumber: number;
  /** Bytes this part must have exactly. */
  size: number;
  method: "PUT";
  url: string;
  headers: Record<string, string>;
  expiresAt: number;
}

export interface UploadStatus {
  kind: "put" | "multipart" | "chunked";
  filename: string;
  size: number;
  partSize: number;
  partCount: number;
  /** The parts that arrived, in part-number order. */
  parts: StoredPart[];
  uploadedBytes: number;
  /** The file's id once completed (then nothing is left to send). */
  assetId: string | null;
  expiresAt: number;
}

/** Starts a direct upload of `size` bytes for a product's file; nothing is recorded yet. */
export async function startUpload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof startUploadSchema>;
}): Promise<StartedUpload> {
  requireAdmin(ctx);
  const { productSlug, size, resumable, ...rest } = parseInput(startUploadSchema, input);
  const product = await getProductForAdmin({ ctx, input: { slug: productSlug } });
  const filename = sanitizeFilename(rest.filename);
  const contentType = safeContentType(rest.contentType, filename);
  if (size > ctx.settings.maxUploadBytes) throw overLimit(ctx);

  const id = newId(ctx, "ast");
  const key = assetStorageKey(product.id, id);
  const claims = { a: id, p: product.id, k: key, f: filename, t: contentType, s: size };
  const now = ctx.clock.now();
  const direct = ctx.store.directUploads;
  if (!direct) {
    const chunked = ctx.store.chunkedUploads;
    if (resumable && chunked) {
      const partCount = Math.max(1, Math.ceil(size / CHUNK_PART_SIZE));
      if (partCount > MAX_PARTS) throw overLimit(ctx);
      await chunked.begin(key, { contentType, contentDisposition: contentDisposition(filename) });
      const expiresAt = now + RESUMABLE_LIFETIME_MS;
      const uploadId = await signClaims(ctx, {
        ...claims,
        m: null,
        c: CHUNK_PART_SIZE,
        r: 1,
        e: expiresAt + COMPLETE_GRACE_MS,
      });
      ctx.log.info("chunked upload started", { product: product.slug, filename, size, partCount });
      return { kind: "chunked", uploadId, partSize: CHUNK_PART_SIZE, partCount, expiresAt };
    }
    const url = new URL(
      `/api/admin/products/${encodeURIComponent(product.slug)}/assets`,
      ctx.settings.publicUrl,
    );
    url.searchParams.set("filename", filename);
    return { kind: "local", uploadId: null, url: url.toString() };
  }

  const disposition = contentDisposition(filename);
  const expiresInSeconds = UPLOAD_URL_TTL_SECONDS;
  const partSize = direct.partSizeFor(size);

  if (size <= partSize) {
    const signed = await direct.presignPut(key, {
      expiresInSeconds,
      contentType,
      contentDisposition: disposition,
      contentLength: size,
    });
    // Content-Length is signed too, but clients (fetch, curl) set it from the body themselves.
    const { "content-length": _length, ...headers } = signed.headers;
    const uploadId = await signClaims(ctx, {
      ...claims,
      m: null,
      ...(resumable ? { r: 1 as const } : {}),
      e: now + PUT_LIFETIME_MS + COMPLETE_GRACE_MS,
    });
    ctx.log.info("direct upload started", { product: product.slug, filename, size, parts: 1 });
    const expiresAt = now + expiresInSeconds * 1000;
    return { kind: "put", uploadId, url: signed.url, headers, expiresAt };
  }

  const partCount = Math.ceil(size / partSize);
  if (partCount > MAX_PARTS) throw overLimit(ctx);
  const multipartId = await direct.createMultipartUpload(key, {
    contentType,
    contentDisposition: disposition,
  });
  const expiresAt = now + RESUMABLE_LIFETIME_MS;
  const uploadId = await signClaims(ctx, {
    ...claims,
    m: { id: multipartId, ps: partSize },
    ...(resumable ? { r: 1 as const } : {}),
    e: expiresAt + COMPLETE_GRACE_MS,
  });
  ctx.log.info("direct upload started", { product: product.slug, filename, size, partCount });
  if (resumable) return { kind: "multipart", uploadId, partSize, partCount, expiresAt };
  // Older clients take every part's URL now: each works for an hour, never a day.
  const parts: { partNumber: number; url: string; size: number }[] = [];
  for (let partNumber = 1; partNumber <= partCount; partNumber++) {
    const bytes = partBytes(size, partSize, partNumber);
    const url = await direct.presignPart(key, multipartId, partNumber, {
      expiresInSeconds,
      contentLength: bytes,
    });
    parts.push({ partNumber, url, size: bytes });
  }
  return { kind: "multipart", uploadId, partSize, partCount, parts, expiresAt };
}

/**
 * Signs the URL of one part as the client starts sending it, valid for UPLOAD_URL_TTL_SECONDS:
 * a part that takes longer (or is retried later, on resume) is signed again. Through the app
 * (chunked), the URL is the shop's own part endpoint and needs the seller's credentials.
 */
export async function signUploadPart({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof signUploadPartSchema>;
}): Promise<SignedPart> {
  requireAdmin(ctx);
  const { productSlug, uploadId, partNumber } = parseInput(signUploadPartSchema, input);
  const { claims, product } = await openUpload(ctx, productSlug, uploadId);
  const partSize = claims.m?.ps ?? claims.c;
  if (!partSize) throw invalidInput("This upload is a single PUT: it has no parts to sign.");
  const count = partCountOf(claims);
  if (partNumber > count)
    throw invalidInput(`This upload has ${count} parts: partNumber must be 1 to ${count}.`);
  const size = partBytes(claims.s, partSize, partNumber);
  const expiresAt = ctx.clock.now() + UPLOAD_URL_TTL_SECONDS * 1000;
  if (claims.m) {
    const direct = ctx.store.directUploads;
    if (!direct) throw invalidInput("The storage no longer takes direct uploads: start again.");
    const url = await direct.presignPart(claims.k, claims.m.id, partNumber, {
      expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
      contentLength: size,
    });
    return { partNumber, size, method: "PUT", url, headers: {}, expiresAt };
  }
  const url = new URL(
    `/api/admin/products/${encodeURIComponent(product.slug)}/uploads/parts/${partNumber}`,
    ctx.settings.publicUrl,
  );
  url.searchParams.set("uploadId", uploadId);
  return { partNumber, size, method: "PUT", url: url.toString(), headers: {}, expiresAt };
}

/**
 * Takes one part of a chunked upload through the app (local storage, R2 binding) and stores it
 * under the upload's key. The part must have exactly its size; sending a part again replaces it.
 */
export async function putUploadPart({
  ctx,
  input,
  body,
}: {
  ctx: Ctx;
  input: InputOf<typeof putUploadPartSchema>;
  body: ReadableStream<Uint8Array>;
}): Promise<StoredPart> {
  requireAdmin(ctx);
  const { productSlug, uploadId, partNumber } = parseInput(putUploadPartSchema, input);
  const { claims } = await openUpload(ctx, productSlug, uploadId);
  const chunked = ctx.store.chunkedUploads;
  if (!claims.c || !chunked)
    throw invalidInput("This upload goes straight to storage: sign its parts instead.");
  if (await findAsset(ctx, claims.a)) throw invalidInput("This upload is already completed.");
  const count = partCountOf(claims);
  if (partNumber > count)
    throw invalidInput(`This upload has ${count} parts: partNumber must be 1 to ${count}.`);
  return chunked.putPart(claims.k, partNumber, body, partBytes(claims.s, claims.c, partNumber));
}

/** What has arrived of an upload, so a client that was stopped sends only the parts missing. */
export async function uploadStatus({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof uploadStatusSchema>;
}): Promise<UploadStatus> {
  requireAdmin(ctx);
  const { productSlug, uploadId } = parseInput(uploadStatusSchema, input);
  const { claims } = await openUpload(ctx, productSlug, uploadId);
  const kind = claims.m ? "multipart" : claims.c ? "chunked" : "put";
  const partSize = claims.m?.ps ?? claims.c ?? Math.max(1, claims.s);
  const partCount = partCountOf(claims);
  const done = await findAsset(ctx, claims.a);
  const expiresAt = claims.e - COMPLETE_GRACE_MS;
  const base = { kind, filename: claims.f, size: claims.s, partSize, partCount, expiresAt };
  if (done) {
    const parts = Array.from({ length: partCount }, (_, i) => ({
      partNumber: i + 1,
      size: partBytes(claims.s, partSize, i + 1),
      etag: "",
    }));
    return { ...base, parts, uploadedBytes: claims.s, assetId: done.id } as UploadStatus;
  }
  if (claims.e < ctx.clock.now()) throw invalidInput("This upload has expired: start it again.");
  const parts = await storedParts(ctx, claims);
  if (!parts) throw invalidInput("This upload no longer exists in storage: start it again.");
  const uploadedBytes = parts.reduce((sum, p) => sum + p.size, 0);
  return { ...base, parts, uploadedBytes, assetId: null } as UploadStatus;
}

/**
 * Finishes a direct upload: joins the parts, checks the object's size against the declared one
 * and the limit (removing it when wrong), hashes it back from storage in constant memory and
 * records it as the newest version of its file name. Repeating a completed call returns the asset.
 */
export async function completeUpload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof completeUploadSchema>;
}): Promise<Asset> {
  requireAdmin(ctx);
  const {
    productSlug,
    uploadId,
    parts,
    sha256: announced,
  } = parseInput(completeUploadSchema, input);
  const claims = await verifyClaims(ctx, uploadId);
  const product = await getProductForAdmin({ ctx, input: { slug: productSlug } });
  if (product.id !== claims.p) throw invalidInput("This upload is for another product.");

  const done = await findAsset(ctx, claims.a);
  if (done) {
    if (announced && announced.toLowerCase() !== done.sha256)
      throw mismatch(announced, done.sha256);
    return done;
  }
  if (claims.e < ctx.clock.now()) {
    await discard(ctx, claims);
    throw invalidInput("This upload has expired: start it again.");
  }

  const key = claims.k;
  let info = await ctx.store.head(key);
  // Already joined when an earlier completing call failed after the join: do not join again.
  if (!info && claims.m) {
    const direct = ctx.store.directUploads;
    if (!direct) throw invalidInput("The storage no longer takes direct uploads: start again.");
    const given =
      parts ??
      (claims.r ? await listedParts(claims, await direct.listParts(key, claims.m.id)) : parts);
    await direct.completeMultipartUpload(key, claims.m.id, checkedParts(claims, given));
    info = await ctx.store.head(key);
  }
  if (!info && claims.c) {
    const chunked = ctx.store.chunkedUploads;
    if (!chunked) throw invalidInput("The storage no longer takes uploads in parts: start again.");
    await listedParts(claims, await chunked.listParts(key));
    await chunked.completeParts(key, partCountOf(claims), {
      contentType: claims.t,
      contentDisposition: contentDisposition(claims.f),
    });
    info = await ctx.store.head(key);
  }
  if (!info) throw invalidInput("Nothing has been uploaded for this upload yet.");
  if (info.size > ctx.settings.maxUploadBytes) {
    await ctx.store.delete(key);
    throw overLimit(ctx);
  }
  if (info.size !== claims.s) {
    await ctx.store.delete(key);
    throw invalidInput(
      `The uploaded file has ${info.size} bytes, not the ${claims.s} announced; it was removed.`,
    );
  }

  const object = await ctx.store.get(key);
  if (!object) throw invalidInput("Nothing has been uploaded for this upload yet.");
  const hash = ctx.crypto.createSha256();
  const reader = object.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
  }
  const sha256 = await hash.digestHex();
  if (announced && announced.toLowerCase() !== sha256) {
    // What arrived is not the seller's file: nothing of it may be published.
    await ctx.store.delete(key).catch(() => {});
    ctx.log.warn("upload refused: sha256 mismatch", { product: product.slug, filename: claims.f });
    throw mismatch(announced, sha256);
  }

  try {
    return await recordStoredAsset(ctx, {
      product,
      id: claims.a,
      filename: claims.f,
      storageKey: key,
      size: info.size,
      sha256,
      contentType: claims.t,
    });
  } catch (error) {
    // A concurrent completion of the same upload may have recorded it: keep its file then.
    if (!(await findAsset(ctx, claims.a).catch(() => true)))
      await ctx.store.delete(key).catch(() => {});
    throw error;
  }
}

/**
 * Gives up a direct upload the seller cancelled: its multipart upload is aborted (the parts sent
 * so far are dropped) and an object already PUT is removed, so nothing half-made stays in the
 * bucket. An upload already recorded as a file is left alone (`aborted: false`): it is a file of
 * the product now, to retire like any other.
 */
export async function abortUpload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof abortUploadSchema>;
}): Promise<{ aborted: boolean }> {
  requireAdmin(ctx);
  const { productSlug, uploadId } = parseInput(abortUploadSchema, input);
  const claims = await verifyClaims(ctx, uploadId);
  const product = await getProductForAdmin({ ctx, input: { slug: productSlug } });
  if (product.id !== claims.p) throw invalidInput("This upload is for another product.");
  if (await findAsset(ctx, claims.a)) return { aborted: false };
  await discard(ctx, claims);
  ctx.log.info("direct upload cancelled", { product: product.slug, filename: claims.f });
  return { aborted: true };
}

const mismatch = (announced: string, stored: string) =>
  unprocessable(
    `The file in storage does not match the SHA-256 you sent (${announced.toLowerCase()}; storage holds ${stored}): nothing was published and the upload was removed. Upload the file again.`,
    { expected: announced.toLowerCase(), actual: stored },
  );

/** Checks the upload id and that it belongs to this product, not yet expired. */
async function openUpload(ctx: Ctx, productSlug: string, uploadId: string) {
  const claims = await verifyClaims(ctx, uploadId);
  const product = await getProductForAdmin({ ctx, input: { slug: productSlug } });
  if (product.id !== claims.p) throw invalidInput("This upload is for another product.");
  if (claims.e < ctx.clock.now()) throw invalidInput("This upload has expired: start it again.");
  return { claims, product };
}

function partCountOf(claims: UploadClaims): number {
  const partSize = claims.m?.ps ?? claims.c;
  return partSize ? Math.max(1, Math.ceil(claims.s / partSize)) : 1;
}

/** Bytes of part `partNumber` (from 1): all full but the last. */
function partBytes(size: number, partSize: number, partNumber: number): number {
  return Math.max(0, Math.min(partSize, size - (partNumber - 1) * partSize));
}

/** The parts the store holds for an upload; null when the store no longer knows it. */
async function storedParts(ctx: Ctx, claims: UploadClaims): Promise<StoredPart[] | null> {
  if (claims.m) {
    const direct = ctx.store.directUploads;
    return direct ? direct.listParts(claims.k, claims.m.id) : null;
  }
  if (claims.c) return ctx.store.chunkedUploads?.listParts(claims.k) ?? null;
  const info = await ctx.store.head(claims.k);
  return info ? [{ partNumber: 1, size: info.size, etag: info.etag ?? "" }] : [];
}

/** The store's parts, checked complete: each of 1..n once, each of its exact size. */
async function listedParts(
  claims: UploadClaims,
  listed: StoredPart[] | null,
): Promise<{ partNumber: number; etag: string }[]> {
  if (!listed) throw invalidInput("This upload no longer exists in storage: start it again.");
  const count = partCountOf(claims);
  const partSize = claims.m?.ps ?? claims.c ?? 1;
  const byNumber = new Map(listed.map((p) => [p.partNumber, p]));
  const missing: number[] = [];
  for (let n = 1; n <= count; n++) {
    const part = byNumber.get(n);
    if (!part || part.size !== partBytes(claims.s, partSize, n)) missing.push(n);
  }
  if (missing.length)
    throw invalidInput(
      `${missing.length} of the ${count} parts have not arrived complete yet (first: part ${missing[0]}): send them, then complete.`,
      { missingParts: missing.slice(0, 100) },
    );
  return listed
    .filter((p) => p.partNumber <= count)
    .map(({ partNumber, etag }) => ({ partNumber, etag }));
}

/** The parts a multipart completion needs: each of 1..n exactly once. */
function checkedParts(
  claims: UploadClaims,
  parts: { partNumber: number; etag: string }[] | undefined,
): { partNumber: number; etag: string }[] {
  const count = Math.ceil(claims.s / (claims.m?.ps ?? 1));
  const numbers = new Set(parts?.map((p) => p.partNumber));
  if (!parts || parts.length !== count || numbers.size !== count || Math.max(...numbers) > count)
    throw invalidInput(
      `Give the ETag of each of the ${count} parts: "parts": [{ "partNumber", "etag" }].`,
    );
  return parts;
}

/** Best effort: an expired upload never recorded leaves nothing behind. */
async function discard(ctx: Ctx, claims: UploadClaims): Promise<void> {
  if (claims.m)
    await ctx.store.directUploads?.abortMultipartUpload(claims.k, claims.m.id).catch(() => {});
  if (claims.c) await ctx.store.chunkedUploads?.abortParts(claims.k).catch(() => {});
  await ctx.store.delete(claims.k).catch(() => {});
}

const overLimit = (ctx: Ctx) =>
  tooLarge(`The file is larger than the upload limit of ${ctx.settings.maxUploadBytes} bytes.`);

async function mac(ctx: Ctx, payload: string): Promise<string> {
  return toBase64Url(
    await ctx.crypto.hmacSha256(ctx.settings.linkSecret, `${TOKEN_PREFIX}${payload}`),
  );
}

async function signClaims(ctx: Ctx, claims: UploadClaims): Promise<string> {
  const payload = toBase64Url(new TextEncoder().encode(JSON.stringify(claims)));
  return `${TOKEN_PREFIX}${payload}.${await mac(ctx, payload)}`;
}

async function verifyClaims(ctx: Ctx, token: string): Promise<UploadClaims> {
  const bad = () =>
    invalidInput("This upload id is not valid: start the upload again to get a new one.");
  if (!token.startsWith(TOKEN_PREFIX)) throw bad();
  const [payload, signature, ...rest] = token.slice(TOKEN_PREFIX.length).split(".");
  if (!payload || !signature || rest.length) throw bad();
  if (!timingSafeEqual(signature, await mac(ctx, payload))) throw bad();
  try {
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) =>
      c.charCodeAt(0),
    );
    return claimsSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    throw bad();
  }
}
