/**
 * The ObjectStore port's contract: one suite that every implementation (local files, S3, the R2
 * binding) runs against its own real backend. Where implementations legitimately differ, the
 * suite asks what the implementation declares (`directUploads` on the port) or what its subject
 * below says it offers, never which class it is.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentDisposition } from "../../src/core/contentDisposition.ts";
import { parseRange } from "../../src/core/delivery/range.ts";
import type { ObjectBody, ObjectStore } from "../../src/core/ports.ts";
import { drainMeasuringMemory } from "../support/memory.ts";

const MiB = 1024 * 1024;

/** One implementation, on a backend of its own, as the suite needs to see it. */
export interface ObjectStoreSubject {
  store: ObjectStore;
  /**
   * The store keeps the type and disposition of put() with the object (S3, R2: a URL the store
   * signs, or a browser's direct download, answers with them). Reads them from the backend itself,
   * since the port reports only the type. Absent: the store keeps the bytes only, and its signed
   * URLs carry the name and type instead (local files).
   */
  storedMetadata?(key: string): Promise<{ contentType: string; contentDisposition: string } | null>;
  /** signedUrl() makes URLs a browser can open. Absent: the store makes none (R2 without API keys). */
  signedUrls?: {
    /** Opens a URL from signedUrl() the way a browser reaches it (the store, or the app's /files). */
    fetch(url: string, init?: RequestInit): Response | Promise<Response>;
    /** Moves the clock that judges a signed URL's expiry (a negative amount moves it back). */
    advanceClock(ms: number): void;
  };
  /** An object of `bytes` bytes made straight in the backend, for the constant-memory read. */
  largeObject: {
    bytes: number;
    create(key: string): Promise<void>;
    /** How far the reading process may grow while the object streams through it (MiB). */
    headroomMiB: { rss: number; arrayBuffers: number };
  };
  /** A store of the same kind whose backend is missing or not writable: check() must say so. */
  unreachable(): Promise<ObjectStore>;
  /** Stops the backend. */
  close(): Promise<void>;
}

/** A stream of `chunks`, each `size` bytes of `fill`. */
function streamOf(chunks: number, size: number, fill = 7): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ === chunks) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(fill));
    },
  });
}

/** The bytes as a stream, cut into chunks of `chunk` bytes (so parts cross chunk boundaries). */
function streamFrom(bytes: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** `length` bytes that differ from their neighbours, so a misplaced byte shows. */
function patterned(length: number, mul = 31): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * mul) % 251;
  return bytes;
}

/** Bytes compared by length and digest: a mismatch reads well and a large compare stays fast. */
const digest = (bytes: Uint8Array) => ({
  length: bytes.length,
  sha256: createHash("sha256").update(bytes).digest("hex"),
});

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function bodyOf(object: ObjectBody | null): ReadableStream<Uint8Array> {
  if (!object) throw new Error("expected the object to exist");
  return object.body;
}

const text = (value: string) => streamFrom(new TextEncoder().encode(value));
const FILENAME = 'Ünïcode "guide" & notes; 100%.pdf';
const putOpts = {
  contentType: "application/pdf",
  contentDisposition: contentDisposition(FILENAME),
};

/**
 * Registers the contract's tests for one implementation; `open` starts its backend before them
 * and the subject is closed after. Every test uses keys of its own under `contract/`.
 */
export function objectStoreContract(name: string, open: () => Promise<ObjectStoreSubject>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ObjectStoreSubject | null = null;
    beforeAll(async () => {
      subject = await open();
    });
    afterAll(async () => {
      await subject?.close();
    });
    const s = (): ObjectStoreSubject => {
      if (!subject) throw new Error(`${name}: the backend did not start`);
      return subject;
    };
    const store = () => s().store;

    describe("put, head, get, delete", () => {
      it("round-trips the bytes: size, sha256, whole get without a range", async () => {
        const bytes = patterned(3 * MiB + 17);
        const key = "contract/roundtrip/a";
        expect(await store().put(key, streamFrom(bytes), putOpts)).toEqual({ size: bytes.length });
        expect(await store().head(key)).toMatchObject({ size: bytes.length });

        const object = await store().get(key);
        expect(object?.size).toBe(bytes.length);
        expect(object?.range).toBeUndefined();
        expect(digest(await readAll(bodyOf(object)))).toEqual(digest(bytes));
      });

      it("a stream over one upload part round-trips too (multipart where the store has it)", async () => {
        // 12 MiB in odd chunks: more than one part on S3 (5 MiB here) and R2 (8 MiB).
        const bytes = patterned(12 * MiB + 5, 7);
        const key = "contract/multipart/a";
        const put = await store().put(key, streamFrom(bytes, 777_777), {
          ...putOpts,
          maxBytes: 100 * MiB,
        });
        expect(put).toEqual({ size: bytes.length });
        expect(await store().head(key)).toMatchObject({ size: bytes.length });
        expect(digest(await readAll(bodyOf(await store().get(key))))).toEqual(digest(bytes));
        if (s().storedMetadata)
          expect(await s().storedMetadata?.(key)).toEqual({
            contentType: putOpts.contentType,
            contentDisposition: putOpts.contentDisposition,
          });
        await store().delete(key);
      });

      it("stores an empty object", async () => {
        const key = "contract/empty/a";
        expect(await store().put(key, streamOf(0, 0), putOpts)).toEqual({ size: 0 });
        expect(await store().head(key)).toMatchObject({ size: 0 });
        const object = await store().get(key);
        expect(object?.size).toBe(0);
        expect((await readAll(bodyOf(object))).length).toBe(0);
      });

      it("put replaces an object whole", async () => {
        const key = "contract/replace/a";
        await store().put(key, text("first version, longer"), putOpts);
        const first = await store().head(key);
        await store().put(key, text("second"), putOpts);
        expect(await store().head(key)).toMatchObject({ size: 6 });
        expect(new TextDecoder().decode(await readAll(bodyOf(await store().get(key))))).toBe(
          "second",
        );
        // An ETag, where the store gives one, names this version: head and get agree on it.
        const second = await store().head(key);
        if (first?.etag !== undefined || second?.etag !== undefined) {
          expect(second?.etag).not.toBe(first?.etag);
          const object = await store().get(key);
          expect(object?.etag).toBe(second?.etag);
          await object?.body.cancel();
        }
      });

      it("delete removes the object, and deleting a missing one is not an error", async () => {
        const key = "contract/delete/a";
        await store().put(key, text("bytes"), putOpts);
        await store().delete(key);
        expect(await store().head(key)).toBeNull();
        expect(await store().get(key)).toBeNull();
        await expect(store().delete(key)).resolves.toBeUndefined();
      });

      it("a missing object is null from head and get (with or without a range), not an error", async () => {
        expect(await store().head("contract/missing/a")).toBeNull();
        expect(await store().get("contract/missing/a")).toBeNull();
        expect(await store().get("contract/missing/a", { start: 0, end: 9 })).toBeNull();
      });

      it("keeps the content type and disposition with the object, where the store keeps them", async (t) => {
        // Local files keep bytes only: their signed URL carries the name and type (tested below).
        const metadata = s().storedMetadata;
        if (!metadata) return t.skip();
        const key = "contract/metadata/a";
        await store().put(key, text("%PDF-1.7"), putOpts);
        expect(await metadata(key)).toEqual({
          contentType: "application/pdf",
          contentDisposition: contentDisposition(FILENAME),
        });
        expect(await store().head(key)).toMatchObject({ contentType: "application/pdf" });
        const object = await store().get(key);
        expect(object?.contentType).toBe("application/pdf");
        await object?.body.cancel();
      });
    });

    describe("maxBytes", () => {
      it("a put over maxBytes rejects with too_large, and the object already there stays whole", async () => {
        const key = "contract/too-large/a";
        await store().put(key, text("original"), putOpts);
        for (const [chunks, size, maxBytes] of [
          [3, 600, 1000],
          [1, 1001, 1000],
          [40, 64 * 1024, 1000],
          // Over one part before the limit is passed: S3 and R2 abort their multipart upload.
          [15, MiB, 11 * MiB],
        ] as const) {
          await expect(
            store().put(key, streamOf(chunks, size), { ...putOpts, maxBytes }),
            `${chunks} x ${size} over ${maxBytes}`,
          ).rejects.toMatchObject({ name: "AppError", code: "too_large" });
          expect(new TextDecoder().decode(await readAll(bodyOf(await store().get(key))))).toBe(
            "original",
          );
        }
        // Exactly at the limit is fine.
        expect(await store().put(key, streamOf(1, 1000), { ...putOpts, maxBytes: 1000 })).toEqual({
          size: 1000,
        });
        await store().delete(key);
      });

      it("a put whose stream breaks rejects with that error and stores nothing", async () => {
        const key = "contract/broken/a";
        let sent = 0;
        const breaking = new ReadableStream<Uint8Array>({
          pull(controller) {
            // After 9 MiB: more than one part has gone up on S3 and R2.
            if (sent++ === 9) controller.error(new Error("the client went away"));
            else controller.enqueue(new Uint8Array(MiB).fill(1));
          },
        });
        await expect(store().put(key, breaking, putOpts)).rejects.toThrow("the client went away");
        expect(await store().head(key)).toBeNull();
      });
    });

    describe("ranged reads", () => {
      const bytes = patterned(2 * MiB + 5, 7);
      const key = "contract/ranged/a";
      let stored: Promise<unknown> | null = null;
      const ready = () => {
        stored ??= store().put(key, streamFrom(bytes), putOpts);
        return stored;
      };

      it("a range gets exactly its bytes, with the object's whole size", async () => {
        await ready();
        const cases: [number, number][] = [
          [0, 0],
          [0, 9],
          [100, 199],
          [MiB - 3, MiB + 3],
          [bytes.length - 5, bytes.length - 1],
          [1, bytes.length - 1],
        ];
        for (const [start, end] of cases) {
          const object = await store().get(key, { start, end });
          expect(object?.size).toBe(bytes.length);
          expect(object?.range).toEqual({ start, end });
          expect(digest(await readAll(bodyOf(object))), `${start}-${end}`).toEqual(
            digest(bytes.slice(start, end + 1)),
          );
        }
      });

      it("open-ended and suffix ranges, as a Range header asks for them", async () => {
        await ready();
        for (const [header, from] of [
          ["bytes=-5", bytes.length - 5],
          ["bytes=-1", bytes.length - 1],
          [`bytes=-${bytes.length + 10}`, 0],
          ["bytes=1000-", 1000],
        ] as const) {
          const parsed = parseRange(header, bytes.length);
          if (parsed.kind !== "partial") throw new Error(`${header} is not a partial range`);
          const object = await store().get(key, parsed.range);
          expect(object?.range, header).toEqual({ start: from, end: bytes.length - 1 });
          expect(digest(await readAll(bodyOf(object))), header).toEqual(digest(bytes.slice(from)));
        }
      });

      it("an end past the object is clamped; a start past it is range_not_satisfiable", async () => {
        await ready();
        const tail = await store().get(key, { start: bytes.length - 2, end: bytes.length + 100 });
        expect(tail?.range).toEqual({ start: bytes.length - 2, end: bytes.length - 1 });
        expect(digest(await readAll(bodyOf(tail)))).toEqual(digest(bytes.slice(-2)));
        for (const start of [bytes.length, bytes.length + 5])
          await expect(
            store().get(key, { start, end: start + 5 }),
            `from ${start}`,
          ).rejects.toMatchObject({ name: "AppError", code: "range_not_satisfiable" });
      });
    });

    it("streams a large object in constant memory", async () => {
      const { bytes, create, headroomMiB } = s().largeObject;
      const key = "contract/large/a";
      await create(key);
      const object = await store().get(key);
      expect(object?.size).toBe(bytes);
      const { read, chunks, growth } = await drainMeasuringMemory(bodyOf(object));
      expect(read).toBe(bytes);
      expect(chunks).toBeGreaterThan(8);
      expect(growth.rss).toBeLessThan(headroomMiB.rss);
      expect(growth.arrayBuffers).toBeLessThan(headroomMiB.arrayBuffers);
      await store().delete(key);
    });

    describe("check()", () => {
      it("passes when the backend is there and writable, each time it is asked", async () => {
        await expect(store().check()).resolves.toBeUndefined();
        await expect(store().check()).resolves.toBeUndefined();
      });

      it("throws when the backend is missing or not writable", async () => {
        await expect((await s().unreachable()).check()).rejects.toThrow();
      });
    });

    describe("signed URLs, where the store makes them", () => {
      const signed = (key: string, expiresInSeconds = 300) =>
        store().signedUrl(key, { expiresInSeconds, filename: FILENAME, contentType: "text/csv" });

      it("open the bytes under the product's file name and type, with Range", async (t) => {
        const urls = s().signedUrls;
        if (!urls) return t.skip();
        const bytes = patterned(1000);
        const key = "contract/signed/a";
        // Stored with other metadata: the URL's name and type are what the browser gets.
        await store().put(key, streamFrom(bytes), {
          contentType: "application/octet-stream",
          contentDisposition: "attachment",
        });
        const url = await signed(key);
        const res = await urls.fetch(url);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("text/csv");
        expect(res.headers.get("content-disposition")).toBe(contentDisposition(FILENAME));
        expect(digest(new Uint8Array(await res.arrayBuffer()))).toEqual(digest(bytes));

        const part = await urls.fetch(url, { headers: { range: "bytes=10-19" } });
        expect(part.status).toBe(206);
        expect(part.headers.get("content-range")).toBe("bytes 10-19/1000");
        expect(digest(new Uint8Array(await part.arrayBuffer()))).toEqual(
          digest(bytes.slice(10, 20)),
        );
        const suffix = await urls.fetch(url, { headers: { range: "bytes=-3" } });
        expect(suffix.status).toBe(206);
        expect(suffix.headers.get("content-range")).toBe("bytes 997-999/1000");
        await suffix.body?.cancel();
        const beyond = await urls.fetch(url, { headers: { range: "bytes=5000-" } });
        expect(beyond.status).toBe(416);
        await beyond.body?.cancel();
      });

      it("stop working once expired, and when the key or any query value is changed", async (t) => {
        const urls = s().signedUrls;
        if (!urls) return t.skip();
        const key = "contract/signed/b";
        await store().put(key, text("secret bytes"), putOpts);
        const url = new URL(await signed(key, 60));
        const refused = async (changed: URL | string, why: string) => {
          const res = await urls.fetch(changed.toString());
          await res.body?.cancel();
          // 403 for a signature that does not match; S3 answers 400 to a mangled credential.
          expect([400, 403], why).toContain(res.status);
        };

        const otherKey = new URL(url);
        otherKey.pathname = otherKey.pathname.replace(/b$/, "c");
        await store().put("contract/signed/c", text("other bytes"), putOpts);
        await refused(otherKey, "another key");
        for (const [name, value] of url.searchParams) {
          const changed = new URL(url);
          changed.searchParams.set(name, `${value}0`);
          await refused(changed, `${name} changed`);
        }

        const ok = await urls.fetch(url.toString());
        expect(ok.status).toBe(200);
        await ok.body?.cancel();
        urls.advanceClock(61_000);
        try {
          await refused(url, "expired");
        } finally {
          urls.advanceClock(-61_000);
        }
      });
    });

    describe("direct uploads, where the store offers them", () => {
      const direct = () => store().directUploads;

      it("parts are equal, at least 5 MiB, and at most 10,000 for any size", (t) => {
        const uploads = direct();
        if (!uploads) return t.skip();
        for (const size of [1, 5 * MiB, 100 * MiB, 50 * 1024 * MiB, 5 * 1024 * 1024 * MiB]) {
          const part = uploads.partSizeFor(size);
          expect(part, String(size)).toBeGreaterThanOrEqual(5 * MiB);
          expect(Math.ceil(size / part), String(size)).toBeLessThanOrEqual(10_000);
        }
      });

      it("a presigned PUT stores the object with the signed type and disposition", async (t) => {
        const uploads = direct();
        if (!uploads) return t.skip();
        const key = "contract/direct/put";
        const bytes = patterned(2048);
        const { url, headers } = await uploads.presignPut(key, {
          expiresInSeconds: 300,
          contentType: "application/pdf",
          contentDisposition: contentDisposition(FILENAME),
          contentLength: bytes.length,
        });
        expect(new URL(url).origin).toBe(uploads.origin);
        // fetch sets Content-Length itself; the rest is sent as signed.
        const sendable = Object.fromEntries(
          Object.entries(headers).filter(([name]) => name.toLowerCase() !== "content-length"),
        );
        const res = await fetch(url, { method: "PUT", headers: sendable, body: bytes });
        expect(res.status).toBe(200);
        await res.body?.cancel();
        expect(await store().head(key)).toMatchObject({
          size: bytes.length,
          contentType: "application/pdf",
        });
        expect(digest(await readAll(bodyOf(await store().get(key))))).toEqual(digest(bytes));
        if (s().storedMetadata)
          expect(await s().storedMetadata?.(key)).toMatchObject({
            contentDisposition: contentDisposition(FILENAME),
          });
        await store().delete(key);
      });

      it("multipart: parts PUT to presigned URLs, then joined in any order; a wrong ETag is invalid_input", async (t) => {
        const uploads = direct();
        if (!uploads) return t.skip();
        const key = "contract/direct/multipart";
        const bytes = patterned(11 * MiB, 13);
        const partSize = uploads.partSizeFor(bytes.length);
        const uploadId = await uploads.createMultipartUpload(key, {
          contentType: "video/mp4",
          contentDisposition: contentDisposition("film.mp4"),
        });
        const parts: { partNumber: number; etag: string }[] = [];
        for (let partNumber = 1; (partNumber - 1) * partSize < bytes.length; partNumber++) {
          const body = bytes.slice((partNumber - 1) * partSize, partNumber * partSize);
          const url = await uploads.presignPart(key, uploadId, partNumber, {
            expiresInSeconds: 600,
            contentLength: body.length,
          });
          expect(new URL(url).origin).toBe(uploads.origin);
          const res = await fetch(url, { method: "PUT", body });
          expect(res.status).toBe(200);
          await res.body?.cancel();
          parts.push({ partNumber, etag: res.headers.get("etag") ?? "" });
        }
        expect(parts.length).toBeGreaterThan(1);
        expect(await store().head(key)).toBeNull();

        const wrong = parts.map((p, i) => (i === 0 ? { ...p, etag: '"0000"' } : p));
        await expect(uploads.completeMultipartUpload(key, uploadId, wrong)).rejects.toMatchObject({
          name: "AppError",
          code: "invalid_input",
        });
        await uploads.completeMultipartUpload(key, uploadId, [...parts].reverse());
        expect(await store().head(key)).toMatchObject({
          size: bytes.length,
          contentType: "video/mp4",
        });
        expect(digest(await readAll(bodyOf(await store().get(key))))).toEqual(digest(bytes));
        await store().delete(key);
      });

      it("an aborted upload leaves nothing, and cannot be completed after", async (t) => {
        const uploads = direct();
        if (!uploads) return t.skip();
        const key = "contract/direct/aborted";
        const uploadId = await uploads.createMultipartUpload(key, {
          contentType: "application/zip",
          contentDisposition: contentDisposition("kit.zip"),
        });
        const url = await uploads.presignPart(key, uploadId, 1, {
          expiresInSeconds: 600,
          contentLength: 10,
        });
        const res = await fetch(url, { method: "PUT", body: new Uint8Array(10) });
        const etag = res.headers.get("etag") ?? "";
        await res.body?.cancel();
        await uploads.abortMultipartUpload(key, uploadId);
        await expect(
          uploads.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]),
        ).rejects.toMatchObject({ name: "AppError", code: "invalid_input" });
        expect(await store().head(key)).toBeNull();
        // Aborting twice is harmless.
        await expect(uploads.abortMultipartUpload(key, uploadId)).resolves.toBeUndefined();
      });
    });
  });
}
