/**
 * Large files go from the seller's client straight to the bucket (DESIGN section 14): a start call
 * hands out presigned URLs (one PUT, or equal multipart parts) and a signed upload id; the
 * completing call checks what arrived, hashes it back from storage and records it as an asset.
 * The upload id is an HMAC-signed token carrying everything the completing call needs, so no
 * table holds pending uploads and a client cannot choose the storage key, product or size.
 */

import type { Asset } from "../../db/schema.ts";
import { contentDisposition } from "../contentDisposition.ts";
import { type Ctx, newId, requireAdmin } from "../context.ts";
import { timingSafeEqual, toBase64Url } from "../encoding.ts";
import { invalidInput, tooLarge } from "../errors.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { assetStorageKey, findAsset, recordStoredAsset } from "./assets.ts";
import { safeContentType, sanitizeFilename } from "./filenames.ts";
import { getProductForAdmin } from "./products.ts";

/** How long the presigned URLs work (R2 allows up to 7 days): long enough for a slow 5 GB upload. */
export const UPLOAD_URL_TTL_SECONDS = 24 * 3600;
/** The completing call is accepted a little longer than the URLs work. */
const COMPLETE_GRACE_MS = 3600_000;
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
      expiresAt: number;
    }
  | {
      kind: "multipart";
      uploadId: string;
      partSize: number;
      parts: { partNumber: number; url: string; size: number }[];
      expiresAt: number;
    }
  /** The store cannot presign (local folder, R2 binding): upload through the app instead. */
  | { kind: "local"; uploadId: null; url: string };

/** Starts a direct upload of `size` bytes for a product's file; nothing is recorded yet. */
export async function startUpload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof startUploadSchema>;
}): Promise<StartedUpload> {
  requireAdmin(ctx);
  const { productSlug, size, ...rest } = parseInput(startUploadSchema, input);
  const product = await getProductForAdmin({ ctx, input: { slug: productSlug } });
  const filename = sanitizeFilename(rest.filename);
  const contentType = safeContentType(rest.contentType, filename);
  if (size > ctx.settings.maxUploadBytes) throw overLimit(ctx);

  const direct = ctx.store.directUploads;
  if (!direct) {
    const url = new URL(
      `/api/admin/products/${encodeURIComponent(product.slug)}/assets`,
      ctx.settings.publicUrl,
    );
    url.searchParams.set("filename", filename);
    return { kind: "local", uploadId: null, url: url.toString() };
  }

  const id = newId(ctx, "ast");
  const key = assetStorageKey(product.id, id);
  const disposition = contentDisposition(filename);
  const expiresInSeconds = UPLOAD_URL_TTL_SECONDS;
  const expiresAt = ctx.clock.now() + expiresInSeconds * 1000;
  const claims = { a: id, p: product.id, k: key, f: filename, t: contentType, s: size };
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
      e: expiresAt + COMPLETE_GRACE_MS,
    });
    ctx.log.info("direct upload started", { product: product.slug, filename, size, parts: 1 });
    return { kind: "put", uploadId, url: signed.url, headers, expiresAt };
  }

  const count = Math.ceil(size / partSize);
  if (count > MAX_PARTS) throw overLimit(ctx);
  const multipartId = await direct.createMultipartUpload(key, {
    contentType,
    contentDisposition: disposition,
  });
  const parts: { partNumber: number; url: string; size: number }[] = [];
  for (let partNumber = 1; partNumber <= count; partNumber++) {
    const bytes = Math.min(partSize, size - (partNumber - 1) * partSize);
    const url = await direct.presignPart(key, multipartId, partNumber, {
      expiresInSeconds,
      contentLength: bytes,
    });
    parts.push({ partNumber, url, size: bytes });
  }
  const uploadId = await signClaims(ctx, {
    ...claims,
    m: { id: multipartId, ps: partSize },
    e: expiresAt + COMPLETE_GRACE_MS,
  });
  ctx.log.info("direct upload started", { product: product.slug, filename, size, parts: count });
  return { kind: "multipart", uploadId, partSize, parts, expiresAt };
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
  const { productSlug, uploadId, parts } = parseInput(completeUploadSchema, input);
  const claims = await verifyClaims(ctx, uploadId);
  const product = await getProductForAdmin({ ctx, input: { slug: productSlug } });
  if (product.id !== claims.p) throw invalidInput("This upload is for another product.");

  const done = await findAsset(ctx, claims.a);
  if (done) return done;
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
    await direct.completeMultipartUpload(key, claims.m.id, checkedParts(claims, parts));
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
