import { createHash } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalObjectStore } from "../../src/adapters/storage-local/index.ts";
import { AppError } from "../../src/core/errors.ts";
import type { ObjectBody } from "../../src/core/ports.ts";

const MiB = 1024 * 1024;
const SECRET = "local-store-test-secret-0123456789";

function freshStore() {
  const root = mkdtempSync(join(tmpdir(), "tollgate-store-"));
  return { root, store: new LocalObjectStore(root, SECRET, "http://shop.test") };
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

const streamFrom = (bytes: Uint8Array) => new Blob([new Uint8Array(bytes)]).stream();

/** Bytes compared by digest and length: a mismatch reads well and a large compare stays fast. */
const digest = (bytes: Uint8Array) => ({
  length: bytes.length,
  sha256: createHash("sha256").update(bytes).digest("hex"),
});

/** The body of an object that must exist. */
function bodyOf(object: ObjectBody | null): ReadableStream<Uint8Array> {
  if (!object) throw new Error("expected the object to exist");
  return object.body;
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** Every file under `dir`, relative to it, however deep. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const putOpts = { contentType: "application/octet-stream", contentDisposition: "attachment" };

// What every store promises (missing objects, ranges, replacing, streaming a large file in
// constant memory, signed URLs) runs for local files in test/contracts/storage-local.test.ts;
// here, what is local files' own: the folder's layout, partial files, keys as paths.
describe("LocalObjectStore", () => {
  it("puts, heads, gets and deletes an object", async () => {
    const { root, store } = freshStore();
    const bytes = Uint8Array.from({ length: 3 * MiB + 17 }, (_, i) => (i * 31) % 251);
    const key = "products/prod_1/ast_1";

    expect(await store.put(key, streamFrom(bytes), putOpts)).toEqual({ size: bytes.length });
    expect(await filesUnder(root)).toEqual([join("products", "prod_1", "ast_1")]);
    expect(digest(await readFile(join(root, "products", "prod_1", "ast_1")))).toEqual(
      digest(bytes),
    );
    expect(await store.head(key)).toMatchObject({ size: bytes.length });

    const object = await store.get(key);
    expect(object).not.toBeNull();
    expect(object?.size).toBe(bytes.length);
    expect(object?.range).toBeUndefined();
    expect(digest(await readAll(bodyOf(object)))).toEqual(digest(bytes));

    await store.delete(key);
    expect(await store.head(key)).toBeNull();
    expect(await store.get(key)).toBeNull();
    expect(await filesUnder(root)).toEqual([]);
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it("a put larger than maxBytes rejects with too_large and leaves no file behind", async () => {
    const { root, store } = freshStore();
    const key = "products/prod_big/ast_big";
    for (const [chunks, size] of [
      [3, 600],
      [1, 1001],
      [40, 64 * 1024],
    ] as const) {
      const put = store.put(key, streamOf(chunks, size), { ...putOpts, maxBytes: 1000 });
      await expect(put).rejects.toBeInstanceOf(AppError);
      await expect(put).rejects.toMatchObject({ code: "too_large" });
      expect(await filesUnder(root)).toEqual([]);
      expect(await store.head(key)).toBeNull();
    }
    // Exactly at the limit is fine.
    expect(await store.put(key, streamOf(1, 1000), { ...putOpts, maxBytes: 1000 })).toEqual({
      size: 1000,
    });
    expect(await filesUnder(root)).toEqual([join("products", "prod_big", "ast_big")]);
  });

  it("a put that fails at once (too large, or the upload breaks) never leaves a partial file", async () => {
    const { root, store } = freshStore();
    for (let i = 0; i < 150; i++) {
      await expect(
        store.put(`products/p/big${i}`, streamOf(1, 2000), { ...putOpts, maxBytes: 1000 }),
      ).rejects.toMatchObject({ code: "too_large" });
      const broken = new ReadableStream<Uint8Array>({
        start: (controller) => controller.error(new Error("the client went away")),
      });
      await expect(store.put(`products/p/broken${i}`, broken, putOpts)).rejects.toThrow(
        "the client went away",
      );
    }
    // Give a file opened late the time to appear.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await filesUnder(root)).toEqual([]);
  });

  it("a too-large put does not harm the object already stored under the key", async () => {
    const { root, store } = freshStore();
    const key = "products/p/kept";
    await store.put(key, streamFrom(new TextEncoder().encode("original")), putOpts);
    await expect(
      store.put(key, streamOf(10, 500), { ...putOpts, maxBytes: 1000 }),
    ).rejects.toMatchObject({ code: "too_large" });
    expect(await readFile(join(root, "products", "p", "kept"), "utf8")).toBe("original");
    expect(await filesUnder(root)).toEqual([join("products", "p", "kept")]);
  });

  it("refuses keys with .., absolute paths or odd characters, and touches nothing outside", async () => {
    const { root, store } = freshStore();
    const outside = `escape-${Date.now()}`;
    const bad = [
      "",
      "..",
      `../${outside}`,
      `products/../../${outside}`,
      "products/./a",
      "products//a",
      "products/a/",
      "/etc/passwd",
      `${root}/products/a`,
      "products\\..\\a",
      "products/a b",
      "products/a\u0000b",
      "products/a\nb",
      "products/ä",
      "products/a%2fb",
      "products/a.partial-1",
      "C:/windows",
      "a/b/c/d/e/f/g/h/i/j/k",
    ];
    for (const key of bad) {
      await expect(store.put(key, streamFrom(new Uint8Array(3)), putOpts), key).rejects.toThrow();
      await expect(store.get(key), key).rejects.toThrow();
      await expect(store.head(key), key).rejects.toThrow();
      await expect(store.delete(key), key).rejects.toThrow();
      await expect(
        store.signedUrl(key, { expiresInSeconds: 60, filename: "a", contentType: "text/plain" }),
        key,
      ).rejects.toThrow();
    }
    expect(await filesUnder(root)).toEqual([]);
    expect(existsSync(join(root, "..", outside))).toBe(false);
  });
});
