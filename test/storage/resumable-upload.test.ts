/**
 * Resumable uploads (issue 19, point 1; decision 0025) through the HTTP API, in process: part
 * URLs signed one at a time for an hour, the parts that arrived listed for a resume, the
 * client's SHA-256 checked before anything is published, and local storage taking the parts
 * through the app in constant memory. The CLI killed and resumed is in resumable-upload-cli.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { type S3TestServer, startS3Server } from "../support/s3-server.ts";

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const patterned = (length: number, mul = 31) =>
  Uint8Array.from({ length }, (_, i) => (i * mul) % 251);

interface Started {
  uploadId: string;
  kind: string;
  partSize: number;
  partCount: number;
  parts?: { partNumber: number; url: string; size: number }[];
  expiresAt: string;
}
interface SignedPart {
  partNumber: number;
  size: number;
  method: "PUT";
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}
interface Status {
  kind: string;
  partCount: number;
  parts: { partNumber: number; size: number; etag: string }[];
  uploadedBytes: number;
  assetId: string | null;
}

const expiresSeconds = (url: string) => Number(new URL(url).searchParams.get("X-Amz-Expires"));

function api(h: Harness, slug: string) {
  const post = (path: string, json: unknown) =>
    h.admin(`/api/admin/products/${slug}/uploads${path}`, { method: "POST", json });
  return {
    start: (json: Record<string, unknown>) => post("", json),
    sign: (uploadId: string, partNumber: number) => post("/parts", { uploadId, partNumber }),
    status: (uploadId: string) => post("/status", { uploadId }),
    complete: (json: Record<string, unknown>) => post("/complete", json),
  };
}

describe.each(dialects)("resumable uploads to S3 storage, on %s", (dialect) => {
  let server: S3TestServer;
  let h: Harness;

  beforeAll(async () => {
    server = await startS3Server({ region: "auto" });
    h = await makeHarness(dialect, {
      STORAGE_URL: "s3://bucket",
      S3_ENDPOINT: server.url,
      S3_REGION: "auto",
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    });
  });
  afterAll(async () => {
    await h?.close();
    await server?.close();
  });

  it("signs each part as it starts, for an hour; the start carries no URL at all", async () => {
    const product = await h.createProduct();
    const calls = api(h, product.slug);
    const bytes = patterned(3 * 8 * MiB + 77, 7);
    const res = await calls.start({ filename: "course.mp4", size: bytes.length, resumable: true });
    expect(res.status).toBe(201);
    const started = (await res.json()) as Started;
    expect(started).toMatchObject({ kind: "multipart", partSize: 8 * MiB, partCount: 4 });
    expect(started.parts).toBeUndefined();
    expect(JSON.stringify(started)).not.toMatch(/X-Amz-Signature|https?:\/\//);
    // The upload can be resumed for days; its URLs work an hour each.
    expect(Date.parse(started.expiresAt) - h.clock.now()).toBeGreaterThan(6 * 24 * 3600_000);

    // Parts 1 and 3 arrive, then the client stops.
    const etags: Record<number, string> = {};
    for (const n of [1, 3]) {
      const signed = (await (await calls.sign(started.uploadId, n)).json()) as SignedPart;
      expect(signed).toMatchObject({ partNumber: n, size: 8 * MiB, method: "PUT" });
      expect(expiresSeconds(signed.url)).toBe(3600);
      const ttl = Date.parse(signed.expiresAt) - h.clock.now();
      expect(ttl).toBeGreaterThan(3590_000);
      expect(ttl).toBeLessThanOrEqual(3600_000);
      const put = await fetch(signed.url, {
        method: "PUT",
        body: bytes.slice((n - 1) * 8 * MiB, n * 8 * MiB),
      });
      expect(put.status).toBe(200);
      etags[n] = put.headers.get("etag") ?? "";
    }
    const status = (await (await calls.status(started.uploadId)).json()) as Status;
    expect(status).toMatchObject({ kind: "multipart", partCount: 4, assetId: null });
    expect(status.parts.map((p) => [p.partNumber, p.size, p.etag])).toEqual([
      [1, 8 * MiB, etags[1]],
      [3, 8 * MiB, etags[3]],
    ]);
    expect(status.uploadedBytes).toBe(16 * MiB);

    // Completing before every part arrived names what is missing.
    const early = await calls.complete({ uploadId: started.uploadId, sha256: sha256(bytes) });
    expect(early.status).toBe(400);
    expect(((await early.json()) as { message: string }).message).toMatch(/2 of the 4 parts/);

    // A URL used after its hour is refused by storage; the client signs the part again.
    const stale = (await (await calls.sign(started.uploadId, 2)).json()) as SignedPart;
    server.shiftTime(2 * 3600_000);
    try {
      const late = await fetch(stale.url, { method: "PUT", body: bytes.slice(8 * MiB, 16 * MiB) });
      expect(late.status).toBe(403);
    } finally {
      server.shiftTime(-2 * 3600_000);
    }
    for (const n of [2, 4]) {
      const signed = (await (await calls.sign(started.uploadId, n)).json()) as SignedPart;
      expect(signed.size).toBe(n === 4 ? 77 : 8 * MiB);
      const put = await fetch(signed.url, {
        method: "PUT",
        body: bytes.slice((n - 1) * 8 * MiB, n * 8 * MiB),
      });
      expect(put.status).toBe(200);
    }
    // A resumable client completes without ETags: the shop lists the parts.
    const done = await calls.complete({ uploadId: started.uploadId, sha256: sha256(bytes) });
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ size: bytes.length, sha256: sha256(bytes) });
    expect(server.pendingUploads()).toEqual([]);
  });

  it("older clients still get every part's URL, each signed for an hour, never a day", async () => {
    const product = await h.createProduct();
    const res = await api(h, product.slug).start({ filename: "a.bin", size: 20 * MiB });
    const started = (await res.json()) as Started;
    expect(started.parts).toHaveLength(3);
    for (const part of started.parts ?? []) expect(expiresSeconds(part.url)).toBe(3600);
    const small = (await (
      await api(h, product.slug).start({ filename: "b.bin", size: 100 })
    ).json()) as { url: string };
    expect(expiresSeconds(small.url)).toBe(3600);
  });

  it("a wrong SHA-256 is a 422: nothing is published and the object is removed", async () => {
    const product = await h.createProduct();
    const calls = api(h, product.slug);
    const bytes = patterned(9 * MiB, 11);
    const started = (await (
      await calls.start({ filename: "tampered.zip", size: bytes.length, resumable: true })
    ).json()) as Started;
    for (const n of [1, 2]) {
      const signed = (await (await calls.sign(started.uploadId, n)).json()) as SignedPart;
      const body = bytes.slice((n - 1) * 8 * MiB, n * 8 * MiB);
      await fetch(signed.url, { method: "PUT", body });
    }
    const wrong = sha256(patterned(9 * MiB, 13));
    const res = await calls.complete({ uploadId: started.uploadId, sha256: wrong });
    expect(res.status).toBe(422);
    const error = (await res.json()) as { code: string; message: string };
    expect(error.code).toBe("unprocessable");
    expect(error.message).toContain("does not match the SHA-256");
    expect(error.message).toContain(sha256(bytes));
    const assets = (await (await h.admin(`/api/admin/products/${product.slug}/assets`)).json()) as {
      assets: unknown[];
    };
    expect(assets.assets).toEqual([]);
    expect(server.keys().filter((k) => k.startsWith(`products/${product.id}/`))).toEqual([]);

    // A malformed hash is refused before anything is touched.
    const bad = await calls.complete({ uploadId: started.uploadId, sha256: "abc" });
    expect(bad.status).toBe(400);
  });

  it("signing refuses part numbers beyond the upload's, and a single PUT has no parts", async () => {
    const product = await h.createProduct();
    const calls = api(h, product.slug);
    const started = (await (
      await calls.start({ filename: "x.bin", size: 17 * MiB, resumable: true })
    ).json()) as Started;
    expect((await calls.sign(started.uploadId, 4)).status).toBe(400);
    const put = (await (
      await calls.start({ filename: "y.bin", size: 10, resumable: true })
    ).json()) as { uploadId: string; kind: string };
    expect(put.kind).toBe("put");
    expect((await calls.sign(put.uploadId, 1)).status).toBe(400);
    const status = (await (await calls.status(put.uploadId)).json()) as Status;
    expect(status).toMatchObject({ kind: "put", partCount: 1, parts: [] });
  });
});

describe.each(dialects)("resumable uploads through the app to local storage, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** `size` bytes of part `n` of a file made of a pattern, generated 1 MiB at a time. */
  function partStream(n: number, size: number): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= size) return controller.close();
        const length = Math.min(MiB, size - sent);
        const chunk = new Uint8Array(length);
        chunk.fill((n * 7 + sent / MiB) % 256);
        sent += length;
        controller.enqueue(chunk);
      },
    });
  }

  it("without `resumable`, answers the raw-body fallback as before", async () => {
    const product = await h.createProduct();
    const res = await api(h, product.slug).start({ filename: "a.txt", size: 5 });
    expect(await res.json()).toEqual({
      uploadId: null,
      method: "POST",
      url: `${PUBLIC_URL}/api/admin/products/${product.slug}/assets?filename=a.txt`,
    });
  });

  it("200 MiB in 8 MiB parts, interrupted and resumed, assembled in constant memory", async () => {
    const product = await h.createProduct();
    const calls = api(h, product.slug);
    const size = 200 * MiB + 12345;
    const started = (await (
      await calls.start({ filename: "big.bin", size, resumable: true })
    ).json()) as Started;
    expect(started).toMatchObject({ kind: "chunked", partSize: 8 * MiB, partCount: 26 });

    const expected = createHash("sha256");
    const sizes = Array.from({ length: 26 }, (_, i) => Math.min(8 * MiB, size - i * 8 * MiB));
    for (let n = 1; n <= 26; n++) {
      const reader = partStream(n, sizes[n - 1] ?? 0).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) expected.update(r.value);
    }
    const digest = expected.digest("hex");

    const sendPart = async (n: number) => {
      const signed = (await (await calls.sign(started.uploadId, n)).json()) as SignedPart;
      expect(signed.url.startsWith(`${PUBLIC_URL}/api/admin/products/${product.slug}/`)).toBe(true);
      const res = await h.admin(signed.url, {
        method: "PUT",
        body: partStream(n, signed.size),
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(200);
    };

    const base = process.memoryUsage().rss;
    let peak = base;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    // The first ten parts, four at a time; then the client "dies".
    for (let n = 1; n <= 10; n += 4) {
      await Promise.all([n, n + 1, n + 2, n + 3].filter((p) => p <= 10).map(sendPart));
      sample();
    }
    // A part cut short is not counted as arrived.
    const short = await h.admin(
      `/api/admin/products/${product.slug}/uploads/parts/11?uploadId=${encodeURIComponent(started.uploadId)}`,
      { method: "PUT", body: new Uint8Array(1000) },
    );
    expect(short.status).toBe(400);

    const status = (await (await calls.status(started.uploadId)).json()) as Status;
    expect(status.parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(status.uploadedBytes).toBe(80 * MiB);

    // Resume: only the missing parts, four at a time.
    const missing = Array.from({ length: 16 }, (_, i) => i + 11);
    while (missing.length) {
      await Promise.all(missing.splice(0, 4).map(sendPart));
      sample();
    }
    const done = await calls.complete({ uploadId: started.uploadId, sha256: digest });
    sample();
    expect(done.status).toBe(201);
    const asset = (await done.json()) as { id: string; size: number; sha256: string };
    expect(asset).toMatchObject({ size, sha256: digest });
    expect((peak - base) / MiB).toBeLessThan(64);

    // The stored file is the parts joined in order.
    const stored = await h.deps.store.get(`products/${product.id}/${asset.id}`);
    const check = createHash("sha256");
    const reader = stored?.body.getReader();
    for (let r = await reader?.read(); r && !r.done; r = await reader?.read())
      check.update(r.value);
    expect(check.digest("hex")).toBe(digest);
    expect(
      await h.deps.store.chunkedUploads?.listParts(`products/${product.id}/${asset.id}`),
    ).toEqual([]);
    // Completing again answers the same file.
    const again = await calls.complete({ uploadId: started.uploadId, sha256: digest });
    expect(((await again.json()) as { id: string }).id).toBe(asset.id);
  });

  it("a wrong SHA-256 publishes nothing, and cancelling drops the parts", async () => {
    const product = await h.createProduct();
    const calls = api(h, product.slug);
    const started = (await (
      await calls.start({ filename: "w.bin", size: 10, resumable: true })
    ).json()) as Started;
    expect(started).toMatchObject({ kind: "chunked", partCount: 1 });
    const signed = (await (await calls.sign(started.uploadId, 1)).json()) as SignedPart;
    await h.admin(signed.url, { method: "PUT", body: "0123456789" });
    const res = await calls.complete({ uploadId: started.uploadId, sha256: "0".repeat(64) });
    expect(res.status).toBe(422);
    const list = (await (await h.admin(`/api/admin/products/${product.slug}/assets`)).json()) as {
      assets: unknown[];
    };
    expect(list.assets).toEqual([]);

    const other = (await (
      await calls.start({ filename: "c.bin", size: 10, resumable: true })
    ).json()) as Started;
    const part = (await (await calls.sign(other.uploadId, 1)).json()) as SignedPart;
    await h.admin(part.url, { method: "PUT", body: "0123456789" });
    const aborted = await h.admin(`/api/admin/products/${product.slug}/uploads/abort`, {
      method: "POST",
      json: { uploadId: other.uploadId },
    });
    expect(await aborted.json()).toEqual({ aborted: true });
    const status = (await (await calls.status(other.uploadId)).json()) as Status;
    expect(status.parts).toEqual([]);
  });
});
