import { createHash } from "node:crypto";
import { AwsClient } from "aws4fetch";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeCrypto } from "../../src/adapters/crypto-node/index.ts";
import {
  S3Error,
  S3ObjectStore,
  type S3StoreOptions,
} from "../../src/adapters/storage-s3/index.ts";
import { nodeSigningCrypto } from "../../src/adapters/storage-s3/node.ts";
import {
  encodeKey,
  S3Presigner,
  type SigningCrypto,
  signingCryptoFromPort,
} from "../../src/adapters/storage-s3/presign.ts";
import { contentDisposition } from "../../src/core/contentDisposition.ts";
import { AppError } from "../../src/core/errors.ts";
import type { ObjectBody } from "../../src/core/ports.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { type S3TestServer, startS3Server } from "../support/s3-server.ts";
import { freePort } from "../support/server.ts";

const MiB = 1024 * 1024;
const putOpts = {
  contentType: "application/zip",
  contentDisposition: contentDisposition("Kit ü.zip"),
};

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

const streamFrom = (bytes: Uint8Array) => new Blob([new Uint8Array(bytes)]).stream();
const patterned = (length: number, mul = 31) =>
  Uint8Array.from({ length }, (_, i) => (i * mul) % 251);

const digest = (bytes: Uint8Array) => ({
  length: bytes.length,
  sha256: createHash("sha256").update(bytes).digest("hex"),
});

function bodyOf(object: ObjectBody | null): ReadableStream<Uint8Array> {
  if (!object) throw new Error("expected the object to exist");
  return object.body;
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** The name a browser saves: the RFC 8187 `filename*` of a Content-Disposition, decoded. */
function savedName(header: string | null): string {
  const encoded = /; filename\*=UTF-8''([^;\s]+)$/.exec(header ?? "")?.[1];
  if (encoded === undefined) throw new Error(`no filename* in ${JSON.stringify(header)}`);
  return decodeURIComponent(encoded);
}

/** The S3 error code of an XML error answer. */
async function errorCode(res: Response): Promise<string | null> {
  return /<Code>([^<]*)<\/Code>/.exec(await res.text())?.[1] ?? null;
}

const EXAMPLE = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const EXAMPLE_TIME = Date.UTC(2013, 4, 24);

describe("SigV4 presigner", () => {
  const example = (crypto: SigningCrypto) =>
    new S3Presigner({
      endpoint: "https://s3.amazonaws.com",
      bucket: "examplebucket",
      region: "us-east-1",
      style: "virtual",
      credentials: EXAMPLE,
      crypto,
    });

  it("reproduces AWS's published example (examplebucket/test.txt, 20130524, 86400 s)", async () => {
    for (const crypto of [nodeSigningCrypto, signingCryptoFromPort(nodeCrypto)]) {
      const url = await example(crypto).presign({
        method: "GET",
        key: "test.txt",
        expiresInSeconds: 86400,
        now: EXAMPLE_TIME,
      });
      expect(url).toBe(
        "https://examplebucket.s3.amazonaws.com/test.txt" +
          "?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
          "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
          "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
          "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
      );
    }
  });

  it("agrees with aws4fetch's query signing for any key, file name, expiry, time and host", async () => {
    const segment = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
      .filter((s) => !s.includes("/") && s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
        fc.constantFrom("application/pdf", "text/plain; charset=utf-8", "image/svg+xml"),
        fc.integer({ min: 1, max: 604800 }),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.constantFrom(
          { endpoint: "http://127.0.0.1:9000", region: "us-east-1", style: "path" as const },
          {
            endpoint: "https://acct123.r2.cloudflarestorage.com",
            region: "auto",
            style: "path" as const,
          },
          {
            endpoint: "https://s3.eu-west-1.amazonaws.com",
            region: "eu-west-1",
            style: "virtual" as const,
          },
          {
            endpoint: "https://minio.example.com:8443/s3",
            region: "us-east-1",
            style: "path" as const,
          },
        ),
        fc.option(fc.constant("FwoGZXIvYXdzEXAMPLE+session/token="), { nil: undefined }),
        async (segments, filename, contentType, expires, now, place, sessionToken) => {
          const key = segments.join("/");
          const credentials = { ...EXAMPLE, ...(sessionToken ? { sessionToken } : {}) };
          const presigner = new S3Presigner({
            ...place,
            bucket: "my-bucket.v2",
            credentials,
            crypto: nodeSigningCrypto,
          });
          const ours = new URL(
            await presigner.presignGet(key, {
              expiresInSeconds: expires,
              now,
              responseContentDisposition: contentDisposition(filename),
              responseContentType: contentType,
            }),
          );

          const unsigned = new URL(presigner.objectUrl(key));
          unsigned.searchParams.set("X-Amz-Expires", String(expires));
          unsigned.searchParams.set("response-content-disposition", contentDisposition(filename));
          unsigned.searchParams.set("response-content-type", contentType);
          const client = new AwsClient({ ...credentials, service: "s3", region: place.region });
          const theirs = new URL(
            (
              await client.sign(unsigned.toString(), {
                aws: {
                  signQuery: true,
                  datetime: new Date(now).toISOString().replace(/[:-]|\.\d{3}/g, ""),
                },
              })
            ).url,
          );

          expect(ours.origin + ours.pathname).toBe(theirs.origin + theirs.pathname);
          const params = (u: URL) => Object.fromEntries([...u.searchParams].sort());
          expect(params(ours)).toEqual(params(theirs));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("derives the signing key once per day, not per URL", async () => {
    const calls = { hmac: 0, sha256: 0 };
    const counting: SigningCrypto = {
      hmacSha256: (key, data) => {
        calls.hmac++;
        return nodeSigningCrypto.hmacSha256(key, data);
      },
      sha256Hex: (data) => {
        calls.sha256++;
        return nodeSigningCrypto.sha256Hex(data);
      },
    };
    const presigner = example(counting);
    const day = Date.UTC(2030, 0, 1, 10);
    for (let i = 0; i < 100; i++)
      await presigner.presignGet(`products/p/a${i}`, {
        expiresInSeconds: 300,
        now: day + i * 1000,
      });
    // 4 HMACs derive kSigning, then one HMAC and one hash per URL.
    expect(calls).toEqual({ hmac: 4 + 100, sha256: 100 });
    await presigner.presignGet("products/p/next-day", {
      expiresInSeconds: 300,
      now: day + 86400e3,
    });
    expect(calls).toEqual({ hmac: 4 + 100 + 4 + 1, sha256: 101 });
  });

  it("accepts 1 s to 7 days, nothing else", async () => {
    const presigner = example(nodeSigningCrypto);
    const sign = (expiresInSeconds: number) =>
      presigner.presignGet("a", { expiresInSeconds, now: EXAMPLE_TIME });
    await expect(sign(1)).resolves.toContain("X-Amz-Expires=1&");
    await expect(sign(604800)).resolves.toContain("X-Amz-Expires=604800&");
    for (const bad of [0, -1, 1.5, 604801, Number.NaN, Number.POSITIVE_INFINITY])
      await expect(sign(bad), String(bad)).rejects.toThrow(RangeError);
  });

  it("encodes each key segment per SigV4 and keeps the slashes", () => {
    expect(encodeKey("products/p 1/ü+!*'()~._-x.txt")).toBe(
      "/products/p%201/%C3%BC%2B%21%2A%27%28%29~._-x.txt",
    );
    const presigner = new S3Presigner({
      endpoint: "https://acct.r2.cloudflarestorage.com/",
      bucket: "shop",
      region: "auto",
      credentials: EXAMPLE,
      crypto: nodeSigningCrypto,
    });
    expect(presigner.objectUrl("a/b c")).toBe("https://acct.r2.cloudflarestorage.com/shop/a/b%20c");
    expect(presigner.bucketUrl()).toBe("https://acct.r2.cloudflarestorage.com/shop");
  });
});

// What every store promises (missing objects, ranges, replacing, reading a large object in
// constant memory, signed URLs, direct uploads) runs for S3 in test/contracts/storage-s3.test.ts;
// here, what is S3's own: the requests on the wire, multipart, leftovers, signatures.
describe("S3ObjectStore against an S3-compatible server that checks SigV4", () => {
  let server: S3TestServer;
  beforeAll(async () => {
    server = await startS3Server({ buckets: ["bucket", "other"] });
  });
  afterAll(() => server.close());

  const storeFor = (overrides: Partial<S3StoreOptions> = {}) =>
    new S3ObjectStore({
      endpoint: server.url,
      bucket: "bucket",
      region: server.region,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      signingCrypto: nodeSigningCrypto,
      partSize: 5 * MiB,
      ...overrides,
    });

  /** Requests the server saw while `fn` ran. */
  async function requestsDuring(fn: () => Promise<unknown>) {
    const from = server.log.length;
    await fn();
    return server.log.slice(from);
  }

  /**
   * Waits for uploads on their way to land or be removed, then checks that under `prefix` only
   * `keys` remain, no multipart upload is pending, and no stray part or temporary file is left.
   */
  async function expectNoLeftovers(prefix: string, keys: string[]) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.pendingUploads().filter((u) => u.key.startsWith(prefix))).toEqual([]);
    expect(server.keys().filter((k) => k.startsWith(prefix))).toEqual(keys);
    const parts = server.pendingUploads().reduce((sum, u) => sum + u.parts, 0);
    expect(await server.fileCount()).toBe(server.keys().length + parts);
  }

  it("puts, heads, gets and deletes an object, storing its type and disposition", async () => {
    const store = storeFor();
    const bytes = patterned(3 * MiB + 17);
    const key = "products/prod_1/ast_1";

    const seen = await requestsDuring(async () => {
      expect(await store.put(key, streamFrom(bytes), putOpts)).toEqual({ size: bytes.length });
    });
    expect(seen.map((r) => `${r.method} ${r.auth} ${r.status}`)).toEqual(["PUT header 200"]);
    expect(server.object(key)).toMatchObject({
      size: bytes.length,
      contentType: "application/zip",
      contentDisposition: `attachment; filename="Kit u.zip"; filename*=UTF-8''Kit%20%C3%BC.zip`,
    });
    expect(await store.head(key)).toMatchObject({
      size: bytes.length,
      contentType: "application/zip",
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
    });

    const object = await store.get(key);
    expect(object?.size).toBe(bytes.length);
    expect(object?.contentType).toBe("application/zip");
    expect(object?.range).toBeUndefined();
    expect(digest(await readAll(bodyOf(object)))).toEqual(digest(bytes));

    await store.delete(key);
    expect(await store.head(key)).toBeNull();
    expect(await store.get(key)).toBeNull();
    await expect(store.delete(key)).resolves.toBeUndefined();
    await expectNoLeftovers("products/prod_1/", []);
  });

  it("uploads what is over one part as multipart: equal parts, then complete", async () => {
    const store = storeFor();
    const bytes = patterned(12 * MiB + 5, 7);
    const key = "products/prod_1/big";
    // Odd chunk sizes, so parts are cut across chunk boundaries.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 777_777)
          controller.enqueue(bytes.slice(at, at + 777_777));
        controller.close();
      },
    });
    const seen = await requestsDuring(async () => {
      expect(await store.put(key, chunked, { ...putOpts, maxBytes: 100 * MiB })).toEqual({
        size: bytes.length,
      });
    });
    const shape = (r: { method: string; url: string; status: number }) =>
      `${r.method} ${r.url.replace(/uploadId=[\w-]+/, "uploadId=U").replace(/^\/bucket\/products\/prod_1\/big/, "")} ${r.status}`;
    expect(seen.map(shape).sort()).toEqual(
      [
        "POST ?uploads 200",
        "PUT ?uploadId=U&partNumber=1 200",
        "PUT ?uploadId=U&partNumber=2 200",
        "PUT ?uploadId=U&partNumber=3 200",
        "POST ?uploadId=U 200",
      ].sort(),
    );
    expect(server.object(key)).toMatchObject({
      size: bytes.length,
      contentType: "application/zip",
      contentDisposition: putOpts.contentDisposition,
      etag: expect.stringMatching(/-3"$/),
    });
    expect(digest(await readAll(bodyOf(await store.get(key))))).toEqual(digest(bytes));
    await store.delete(key);
    await expectNoLeftovers("products/prod_1/", []);
  });

  it("stores an empty file, and exactly one part's worth as a single PUT", async () => {
    const store = storeFor();
    expect(await store.put("products/p/empty", streamOf(0, 0), putOpts)).toEqual({ size: 0 });
    expect(await store.head("products/p/empty")).toMatchObject({ size: 0 });
    expect((await readAll(bodyOf(await store.get("products/p/empty")))).length).toBe(0);

    const seen = await requestsDuring(() =>
      store.put("products/p/one-part", streamOf(5, MiB), putOpts),
    );
    expect(seen.map((r) => r.method)).toEqual(["PUT"]);
    expect(await store.head("products/p/one-part")).toMatchObject({ size: 5 * MiB });
    await store.delete("products/p/empty");
    await store.delete("products/p/one-part");
  });

  it("a put larger than maxBytes rejects with too_large and leaves nothing, single or multipart", async () => {
    const store = storeFor();
    const key = "products/prod_big/ast_big";
    await store.put(key, streamFrom(new TextEncoder().encode("original")), putOpts);
    for (const [chunks, size, maxBytes] of [
      [3, 600, 1000],
      [1, 1001, 1000],
      [40, 64 * 1024, 1000],
      // Two full parts go up before the third shows the file is too large: the upload is aborted.
      [15, MiB, 11 * MiB],
    ] as const) {
      const put = store.put(key, streamOf(chunks, size), { ...putOpts, maxBytes });
      await expect(put).rejects.toBeInstanceOf(AppError);
      await expect(put).rejects.toMatchObject({ code: "too_large" });
      await expectNoLeftovers("products/prod_big/", [key]);
      expect(new TextDecoder().decode(await readAll(bodyOf(await store.get(key))))).toBe(
        "original",
      );
    }
    // Exactly at the limit is fine.
    expect(await store.put(key, streamOf(1, 1000), { ...putOpts, maxBytes: 1000 })).toEqual({
      size: 1000,
    });
    await store.delete(key);
    await expectNoLeftovers("products/prod_big/", []);
  });

  it("an upload that breaks halfway aborts the multipart upload", async () => {
    const store = storeFor();
    let sent = 0;
    const breaking = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 12) controller.error(new Error("the client went away"));
        else controller.enqueue(new Uint8Array(MiB).fill(1));
      },
    });
    const seen = await requestsDuring(async () => {
      await expect(store.put("products/p/broken", breaking, putOpts)).rejects.toThrow(
        "the client went away",
      );
    });
    expect(seen.filter((r) => r.method === "DELETE" && r.url.includes("uploadId="))).toHaveLength(
      1,
    );
    await expectNoLeftovers("products/p/broken", []);
  });

  it("refuses keys a URL cannot carry as they are, before sending anything", async () => {
    const store = storeFor();
    const bad = [
      "",
      "..",
      "../x",
      "products/../x",
      "products/./a",
      "/etc/passwd",
      "a\u0000b",
      "a\nb",
      "a\\b",
    ];
    const seen = await requestsDuring(async () => {
      for (const key of bad) {
        await expect(store.put(key, streamFrom(new Uint8Array(3)), putOpts), key).rejects.toThrow(
          "invalid storage key",
        );
        await expect(store.get(key), key).rejects.toThrow("invalid storage key");
        await expect(store.head(key), key).rejects.toThrow("invalid storage key");
        await expect(store.delete(key), key).rejects.toThrow("invalid storage key");
        await expect(
          store.signedUrl(key, { expiresInSeconds: 60, filename: "a", contentType: "text/plain" }),
          key,
        ).rejects.toThrow("invalid storage key");
      }
    });
    expect(seen).toEqual([]);
  });

  it("uploads a 512 MiB stream in bounded memory (parts in flight, never the file)", async () => {
    const store = storeFor({ partSize: 5 * MiB, partConcurrency: 2 });
    const size = 512 * MiB;
    const base = process.memoryUsage().arrayBuffers;
    let peak = base;
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === size) return controller.close();
        controller.enqueue(new Uint8Array(256 * 1024).fill(sent % 251));
        sent += 256 * 1024;
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      },
    });
    expect(await store.put("products/huge/upload", source, putOpts)).toEqual({ size });
    expect(server.object("products/huge/upload")).toMatchObject({
      size,
      etag: expect.stringMatching(/-103"$/),
    });
    // Each part in flight is held twice (kept for a retry, copied by fetch), plus the part being
    // cut: about 30 MiB here, plus the test server's buffers and garbage not collected yet (about
    // 75 MiB measured in all). Buffering the file would be 512 MiB.
    expect((peak - base) / MiB).toBeLessThan(160);
    await store.delete("products/huge/upload");
  });

  describe("check()", () => {
    it("passes when the bucket is there and the keys may list and write", async () => {
      const store = storeFor();
      const seen = await requestsDuring(() => store.check());
      expect(seen.map((r) => `${r.method} ${r.status}`)).toEqual([
        "GET 200",
        "PUT 200",
        "DELETE 204",
      ]);
      // The write probe is not repeated on every readiness check.
      const again = await requestsDuring(() => store.check());
      expect(again.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200"]);
      expect(server.keys().filter((k) => k.startsWith("tollgate-probe/"))).toEqual([]);
    });

    it("says in words what is wrong", async () => {
      const closedPort = await freePort();
      const cases: [Partial<S3StoreOptions>, RegExp][] = [
        [{ bucket: "missing" }, /bucket "missing" does not exist/],
        [{ accessKeyId: "AKIDUNKNOWN" }, /S3_ACCESS_KEY_ID is not known/],
        [{ secretAccessKey: "wrong-secret" }, /S3_SECRET_ACCESS_KEY is wrong/],
        [{ region: "eu-west-1" }, /S3_REGION "eu-west-1" is not this bucket's region/],
        [{ endpoint: `http://127.0.0.1:${closedPort}` }, /not reachable .*ECONNREFUSED/],
      ];
      for (const [overrides, message] of cases)
        await expect(storeFor(overrides).check(), JSON.stringify(overrides)).rejects.toThrow(
          message,
        );
    });
  });

  describe("the server checks every request's signature", () => {
    it("an anonymous request gets 403 with an S3 XML error", async () => {
      const store = storeFor();
      await store.put("products/p/private", streamFrom(new Uint8Array(10)), putOpts);
      for (const method of ["GET", "PUT", "DELETE"]) {
        const res = await fetch(`${server.url}/bucket/products/p/private`, {
          method,
          ...(method === "PUT" ? { body: "x" } : {}),
        });
        expect(res.status, method).toBe(403);
        expect(res.headers.get("content-type")).toBe("application/xml");
        expect(await errorCode(res)).toBe("AccessDenied");
      }
      expect(await store.head("products/p/private")).toMatchObject({ size: 10 });
      await store.delete("products/p/private");
    });

    it("a header-signed request that was changed, or signed with the wrong secret, gets 403", async () => {
      const client = new AwsClient({
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        service: "s3",
        region: server.region,
      });
      await storeFor().put("products/p/signed", streamFrom(new Uint8Array(4)), putOpts);
      const signed = await client.sign(`${server.url}/bucket/products/p/signed`, { method: "GET" });
      expect((await fetch(signed.clone())).status).toBe(200);
      const moved = new Request(`${server.url}/bucket/products/p/signeD`, signed);
      expect(await errorCode(await fetch(moved))).toBe("SignatureDoesNotMatch");

      const wrong = storeFor({ secretAccessKey: "not-the-secret" });
      await expect(wrong.head("products/p/signed")).rejects.toBeInstanceOf(S3Error);
      await expect(
        wrong.put("products/p/signed", streamFrom(new Uint8Array(1)), putOpts),
      ).rejects.toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
      await storeFor().delete("products/p/signed");
    });
  });

  describe("presigned URLs", () => {
    const name = 'Ünïcode "notes" & more; 100%.pdf';

    async function stored(key: string, bytes: Uint8Array) {
      const store = storeFor();
      await store.put(key, streamFrom(bytes), {
        contentType: "application/octet-stream",
        contentDisposition: "attachment",
      });
      return store;
    }

    it("the signed URL downloads the bytes under the product's file name and type", async () => {
      const bytes = patterned(1000);
      const store = await stored("products/p/doc", bytes);
      const url = await store.signedUrl("products/p/doc", {
        expiresInSeconds: 300,
        filename: name,
        contentType: "application/pdf",
      });
      expect(
        url.startsWith(`${server.url}/bucket/products/p/doc?X-Amz-Algorithm=AWS4-HMAC-SHA256&`),
      ).toBe(true);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/pdf");
      expect(res.headers.get("content-disposition")).toBe(contentDisposition(name));
      expect(savedName(res.headers.get("content-disposition"))).toBe(name);
      expect(digest(new Uint8Array(await res.arrayBuffer()))).toEqual(digest(bytes));

      const part = await fetch(url, { headers: { range: "bytes=10-19" } });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe("bytes 10-19/1000");
      expect(Array.from(new Uint8Array(await part.arrayBuffer()))).toEqual(
        Array.from(bytes.slice(10, 20)),
      );
      const beyond = await fetch(url, { headers: { range: "bytes=5000-" } });
      expect(beyond.status).toBe(416);
      expect(await errorCode(beyond)).toBe("InvalidRange");
      await store.delete("products/p/doc");
    });

    it("any one changed character in the path or the query is refused", async () => {
      const store = await stored("products/p/tamper", patterned(10));
      const url = new URL(
        await store.signedUrl("products/p/tamper", {
          expiresInSeconds: 300,
          filename: "kit.zip",
          contentType: "application/zip",
        }),
      );
      const target = url.pathname + url.search;
      /** Another character of the same kind, so a %XX escape stays one (`%2F` -> `%2A`). */
      const other = (c: string) => {
        const ring = [
          "0123456789",
          "ABCDEF",
          "abcdef",
          "GHIJKLMNOPQRSTUVWXYZ",
          "ghijklmnopqrstuvwxyz",
        ].find((r) => r.includes(c));
        return ring ? (ring[(ring.indexOf(c) + 1) % ring.length] ?? "x") : "x";
      };
      const overrides = [target.indexOf("&response-"), target.indexOf("&X-Amz-Signature=")];
      const signature = target.indexOf("&X-Amz-Signature=") + "&X-Amz-Signature=".length;
      const outcomes = new Map<string, number>();
      for (let i = 1; i < target.length; i++) {
        const changed = target.slice(0, i) + other(target[i] ?? "") + target.slice(i + 1);
        const res = await fetch(server.url + changed);
        const code = `${res.status} ${await errorCode(res)}`;
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        // Changing how the URL authenticates (X-Amz-Algorithm, the credential scope) is a 400.
        expect([400, 403], `${changed} -> ${code}`).toContain(res.status);
        // The path, the signed response overrides and the signature: a plain mismatch.
        const inPath = i < url.pathname.length;
        const inOverrides = i > (overrides[0] ?? 0) && i < (overrides[1] ?? 0);
        if (inPath || inOverrides || i >= signature)
          expect(code, changed).toBe("403 SignatureDoesNotMatch");
      }
      expect(outcomes.get("403 SignatureDoesNotMatch")).toBeGreaterThan(target.length / 2);
      expect((await fetch(url)).status).toBe(200);
      await store.delete("products/p/tamper");
    });

    it("an expired URL is 403, and so is one whose date was moved", async () => {
      const store = await stored("products/p/expiring", patterned(10));
      const opts = { filename: "a.bin", contentType: "application/octet-stream" };
      const past = storeFor({ now: () => Date.now() - 60_000 });
      const stale = await past.signedUrl("products/p/expiring", { ...opts, expiresInSeconds: 30 });
      const res = await fetch(stale);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("Request has expired");

      const fresh = await store.signedUrl("products/p/expiring", { ...opts, expiresInSeconds: 2 });
      expect((await fetch(fresh)).status).toBe(200);
      server.shiftTime(3000);
      try {
        const later = await fetch(fresh);
        expect(later.status).toBe(403);
        expect(await errorCode(later)).toBe("AccessDenied");
      } finally {
        server.shiftTime(-3000);
      }
      // Re-dating the URL to extend it breaks the signature.
      const moved = new URL(stale);
      moved.searchParams.set("X-Amz-Date", new URL(fresh).searchParams.get("X-Amz-Date") ?? "");
      expect(await errorCode(await fetch(moved))).toBe("SignatureDoesNotMatch");
      await store.delete("products/p/expiring");
    });

    it("the server also takes aws4fetch's presigned URLs (the two agree on the wire)", async () => {
      const store = await stored("products/p/both ways (1).bin", patterned(50));
      const client = new AwsClient({
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        service: "s3",
        region: server.region,
      });
      const unsigned = new URL(store.presigner.objectUrl("products/p/both ways (1).bin"));
      unsigned.searchParams.set("X-Amz-Expires", "60");
      unsigned.searchParams.set("response-content-disposition", contentDisposition(name));
      const theirs = await client.sign(unsigned.toString(), { aws: { signQuery: true } });
      const res = await fetch(theirs.url);
      expect(res.status).toBe(200);
      expect(savedName(res.headers.get("content-disposition"))).toBe(name);
      await store.delete("products/p/both ways (1).bin");
    });

    it("a presigned PUT stores the object with the signed type, disposition and length", async () => {
      const store = storeFor();
      const key = "products/p/direct";
      const bytes = patterned(2048);
      const signed = await store.presignPut(key, {
        expiresInSeconds: 300,
        contentType: "application/pdf",
        contentDisposition: contentDisposition(name),
        contentLength: bytes.length,
      });
      const { "content-length": _, ...sendable } = signed.headers;
      // Another type, or another length than signed, is refused.
      const otherType = await fetch(signed.url, {
        method: "PUT",
        headers: { ...sendable, "content-type": "text/html" },
        body: bytes,
      });
      expect(otherType.status).toBe(403);
      const otherLength = await fetch(signed.url, {
        method: "PUT",
        headers: sendable,
        body: bytes.slice(1),
      });
      expect(otherLength.status).toBe(403);
      expect(server.object(key)).toBeNull();

      const res = await fetch(signed.url, { method: "PUT", headers: sendable, body: bytes });
      expect(res.status).toBe(200);
      expect(server.object(key)).toMatchObject({
        size: 2048,
        contentType: "application/pdf",
        contentDisposition: contentDisposition(name),
      });
      await store.delete(key);
    });

    it("multipart with presigned part URLs: create, PUT the parts straight to storage, complete", async () => {
      const store = storeFor();
      const key = "products/p/from-browser";
      const bytes = patterned(11 * MiB, 13);
      const uploadId = await store.createMultipartUpload(key, {
        contentType: "video/mp4",
        contentDisposition: contentDisposition("film.mp4"),
      });
      const partSize = 5 * MiB;
      const parts: { partNumber: number; etag: string }[] = [];
      for (let partNumber = 1; (partNumber - 1) * partSize < bytes.length; partNumber++) {
        const url = await store.presignPart(key, uploadId, partNumber, { expiresInSeconds: 600 });
        expect(new URL(url).searchParams.get("partNumber")).toBe(String(partNumber));
        const res = await fetch(url, {
          method: "PUT",
          body: bytes.slice((partNumber - 1) * partSize, partNumber * partSize),
        });
        expect(res.status).toBe(200);
        parts.push({ partNumber, etag: res.headers.get("etag") ?? "" });
      }
      // A part URL cannot be reused for another part number or another upload.
      const url = new URL(await store.presignPart(key, uploadId, 1, { expiresInSeconds: 600 }));
      url.searchParams.set("partNumber", "4");
      expect((await fetch(url, { method: "PUT", body: "x" })).status).toBe(403);

      expect(server.object(key)).toBeNull();
      await store.completeMultipartUpload(key, uploadId, parts.reverse());
      expect(server.object(key)).toMatchObject({ size: bytes.length, contentType: "video/mp4" });
      expect(digest(await readAll(bodyOf(await store.get(key))))).toEqual(digest(bytes));
      await expect(store.completeMultipartUpload(key, uploadId, parts)).rejects.toMatchObject({
        code: "NoSuchUpload",
      });
      await store.delete(key);
      await expectNoLeftovers(key, []);
    });
  });
});

describe.each(dialects)("the shop on S3 storage, on %s", (dialect) => {
  let server: S3TestServer;
  let h: Harness;
  let proxy: Harness;
  const BYTES = Uint8Array.from({ length: 100 }, (_, i) => i + 100);

  beforeAll(async () => {
    server = await startS3Server({ region: "auto" });
    const env = {
      STORAGE_URL: "s3://bucket",
      S3_ENDPOINT: server.url,
      S3_REGION: "auto",
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    };
    h = await makeHarness(dialect, env);
    proxy = await makeHarness(dialect, { ...env, DELIVERY_MODE: "proxy", MAX_UPLOAD_SIZE: "1KB" });
  });
  afterAll(async () => {
    await h?.close();
    await proxy?.close();
    await server?.close();
  });

  async function owner(harness: Harness, filename: string) {
    const email = `s3-${Math.random().toString(36).slice(2)}@example.com`;
    const product = await harness.createProduct();
    const asset = await harness.upload(product.slug, filename, BYTES);
    await harness.grant(email, product.slug);
    const cookie = await harness.signIn(email);
    return { email, product, asset, cookie, path: `/download/${product.slug}/${asset.id}` };
  }

  it("is ready when the bucket is reachable, and redirects by default", async () => {
    expect(h.config.delivery.mode).toBe("redirect");
    expect(h.deps.store.kind).toBe("s3");
    const res = await h.request("/readyz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      checks: [
        { name: "database", ok: true },
        { name: "storage", ok: true },
      ],
    });
  });

  it("an uploaded file is stored privately, and a signed-in download is a 302 to a signed URL that serves it", async () => {
    const filename = "Ünïcode guide (v2).pdf";
    const { asset, cookie, path, product } = await owner(h, filename);
    const stored = server.object(`products/${product.id}/${asset.id}`);
    expect(stored).toMatchObject({ size: 100, contentDisposition: contentDisposition(filename) });
    expect(asset.sha256).toBe(createHash("sha256").update(BYTES).digest("hex"));

    const res = await h.request(path, { cookie });
    expect(res.status).toBe(302);
    expect(res.headers.get("cache-control")).toContain("no-store");
    const location = res.headers.get("location") ?? "";
    expect(location.startsWith(`${server.url}/bucket/products/${product.id}/${asset.id}?`)).toBe(
      true,
    );
    const url = new URL(location);
    expect(url.searchParams.get("X-Amz-Expires")).toBe(String(h.config.delivery.urlTtlSeconds));
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/\/auto\/s3\/aws4_request$/);

    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("application/pdf");
    expect(savedName(file.headers.get("content-disposition"))).toBe(filename);
    expect(Array.from(new Uint8Array(await file.arrayBuffer()))).toEqual(Array.from(BYTES));
    // Without the signature the bucket answers 403.
    expect((await fetch(location.split("?")[0] ?? "")).status).toBe(403);
  });

  it("proxy mode streams the object from the bucket, with Range passed through", async () => {
    const { cookie, path } = await owner(proxy, "kit.bin");
    const whole = await proxy.request(path, { cookie });
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe("100");
    expect(Array.from(new Uint8Array(await whole.arrayBuffer()))).toEqual(Array.from(BYTES));

    const from = server.log.length;
    const part = await proxy.request(path, { cookie, headers: { range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 10-19/100");
    expect(Array.from(new Uint8Array(await part.arrayBuffer()))).toEqual(
      Array.from(BYTES.slice(10, 20)),
    );
    expect(server.log.slice(from).map((r) => `${r.method} ${r.status}`)).toEqual(["GET 206"]);

    const beyond = await proxy.request(path, { cookie, headers: { range: "bytes=500-" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */100");
  });

  it("an upload over the size limit is refused with 413 and leaves nothing in the bucket", async () => {
    const product = await proxy.createProduct();
    const before = server.keys();
    const res = await proxy.admin(`/api/admin/products/${product.slug}/assets?filename=big.bin`, {
      method: "POST",
      body: new Blob([new Uint8Array(5000)]),
    });
    expect(res.status).toBe(413);
    expect(server.keys()).toEqual(before);
    expect(server.pendingUploads()).toEqual([]);
  });

  it("a file missing from the bucket is a 503, not a crash", async () => {
    const { cookie, path, product, asset } = await owner(proxy, "gone.bin");
    await proxy.deps.store.delete(`products/${product.id}/${asset.id}`);
    const res = await proxy.request(path, { cookie });
    expect(res.status).toBe(503);
  });
});
