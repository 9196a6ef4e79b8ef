/**
 * Public images: pictures the shop shows to anyone (a product's cover, the shop's logo), never a
 * paid file. The bytes are checked (PNG, JPEG, WebP or GIF, told by their first bytes, never by
 * what the client says; no SVG, which can carry script), stored in the object store under their
 * SHA-256, and named by an id `<sha256>.<ext>` that `GET /images/{id}` serves for good: the same
 * id is always the same bytes, so the answer is cached as immutable. Nothing here knows what an
 * image is for; the caller keeps the id (products.cover_image, the shop's logo).
 */
import type { Ctx } from "../context.ts";
import { toHex } from "../encoding.ts";
import { invalidInput, tooLarge } from "../errors.ts";
import type { ObjectBody } from "../ports.ts";

/** Big enough for a sharp cover at twice its shown size, small enough for a phone to load. */
export const MAX_PUBLIC_IMAGE_BYTES = 2 * 1024 * 1024;

const TYPES = {
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
} as const;
export type PublicImageExt = keyof typeof TYPES;

/** What an id looks like: anything else is unknown without asking the store. */
const ID = /^([0-9a-f]{64})\.(png|jpg|webp|gif)$/;

export interface PublicImage {
  id: string;
  contentType: string;
  size: number;
}

/** The image's type from its first bytes, or null when it is none of the four. */
export function sniffImageType(bytes: Uint8Array): PublicImageExt | null {
  const at = (offset: number, ...expected: number[]) =>
    expected.every((b, i) => bytes[offset + i] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (at(0, 0xff, 0xd8, 0xff)) return "jpg";
  // "GIF87a" or "GIF89a"
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (at(4, 0x37, 0x61) || at(4, 0x39, 0x61))) return "gif";
  // "RIFF" size "WEBP"
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "webp";
  return null;
}

/**
 * Reads an image (at most `maxBytes`; 413 past it, read no further), checks its type by its bytes
 * and stores it. Storing the same bytes again is harmless: the key is their hash. A refused image
 * stores nothing. Checking the caller may store images is the caller's part.
 */
export async function storePublicImage(
  ctx: Ctx,
  input: {
    body: ReadableStream<Uint8Array> | Uint8Array | null;
    /** The request's Content-Length, when it gave one: refused at once when over the limit. */
    declaredSize?: number | null;
    maxBytes?: number;
  },
): Promise<PublicImage> {
  const max = input.maxBytes ?? MAX_PUBLIC_IMAGE_BYTES;
  const tooBig = () =>
    tooLarge(
      `The image is larger than ${formatLimit(max)}. Save it smaller (a cover looks sharp at 1600 by 900 pixels) and try again.`,
    );
  if ((input.declaredSize ?? 0) > max) throw tooBig();
  const bytes = await readAtMost(input.body, max, tooBig);
  if (bytes.byteLength === 0)
    throw invalidInput("The request has no body: send the image's bytes.");
  const ext = sniffImageType(bytes);
  if (!ext)
    throw invalidInput(
      "That file is not a PNG, JPEG, WebP or GIF image (SVG is not accepted). Choose a picture in one of those formats.",
    );
  const hash = toHex(await ctx.crypto.sha256(bytes));
  const id = `${hash}.${ext}`;
  const contentType = TYPES[ext];
  await ctx.store.put(storageKey(hash, ext), singleChunk(bytes), {
    contentType,
    contentDisposition: "inline",
    maxBytes: max,
  });
  ctx.log.info("public image stored", { id, size: bytes.byteLength });
  return { id, contentType, size: bytes.byteLength };
}

/** An image's bytes by id; null for a malformed id and for one the store does not have alike. */
export async function readPublicImage(
  ctx: Ctx,
  id: string,
): Promise<(ObjectBody & { contentType: string }) | null> {
  const match = ID.exec(id);
  if (!match) return null;
  const [, hash, ext] = match as unknown as [string, string, PublicImageExt];
  const object = await ctx.store.get(storageKey(hash, ext));
  if (!object) return null;
  // The type follows from the id, which was made from the bytes: never what a store reports.
  return { ...object, contentType: TYPES[ext] };
}

/** Whether `id` is an image id in form (not whether it exists). */
export const isPublicImageId = (id: string) => ID.test(id);

/** Where an image is served: a relative URL, the same for every page and the API. */
export const publicImageUrl = (id: string) => `/images/${id}`;

/** A key every store takes (the local one allows no dots): `images/<sha256>-<ext>`. */
const storageKey = (hash: string, ext: string) => `images/${hash}-${ext}`;

async function readAtMost(
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  max: number,
  tooBig: () => Error,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  if (body instanceof Uint8Array) {
    if (body.byteLength > max) throw tooBig();
    return body;
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooBig();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function singleChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function formatLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0
    ? `${bytes / (1024 * 1024)} MB`
    : `${Math.ceil(bytes / 1024)} KB`;
}
