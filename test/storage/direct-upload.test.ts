import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentDisposition } from "../../src/core/contentDisposition.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { type S3TestServer, startS3Server } from "../support/s3-server.ts";

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const patterned = (length: number, mul = 31) =>
  Uint8Array.from({ length }, (_, i) => (i * mul) % 251);

interface PutUpload {
  uploadId: string;
  method: "PUT";
  url: string;
  headers: Record<string, string>;
}
interface MultipartUpload {
  uploadId: string;
  parts: { partNumber: number; url: string; size: number }[];
  partSize: number;
}

/** What the signed upload id carries (its payload is readable, only not forgeable). */
function claimsOf(uploadId: string): { k: string; s: number; [name: string]: unknown } {
  const payload = uploadId.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

describe.each(dialects)("direct uploads to S3 storage, on %s", (dialect) => {
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

  const start = (slug: string, body: Record<string, unknown>) =>
    h.admin(`/api/admin/products/${slug}/uploads`, { method: "POST", json: body });
  const complete = (slug: string, body: Record<string, unknown>) =>
    h.admin(`/api/admin/products/${slug}/uploads/complete`, { method: "POST", json: body });
  const assetsOf = async (slug: string) =>
    ((await (await h.admin(`/api/admin/products/${slug}/assets`)).json()) as { assets: unknown[] })
      .assets;

  /** Signs a buyer in with the product granted, and downloads the file as they would. */
  async function buyerDownload(slug: string, assetId: string): Promise<Uint8Array> {
    const email = `buyer-${Math.random().toString(36).slice(2)}@example.com`;
    await h.grant(email, slug);
    const cookie = await h.signIn(email);
    const res = await h.request(`/download/${slug}/${assetId}`, { cookie });
    expect(res.status).toBe(302);
    const file = await fetch(res.headers.get("location") ?? "");
    expect(file.status).toBe(200);
    return new Uint8Array(await file.arrayBuffer());
  }

  it("single PUT: the client uploads to the signed URL, completes, and a buyer downloads those bytes", async () => {
    const product = await h.createProduct();
    const bytes = patterned(3000);
    const filename = "Guide (v2) ü.pdf";
    const res = await start(product.slug, { filename, size: bytes.length });
    expect(res.status).toBe(201);
    const upload = (await res.json()) as PutUpload;
    expect(upload.method).toBe("PUT");
    expect(upload.url.startsWith(`${server.url}/bucket/products/${product.id}/ast_`)).toBe(true);
    expect(upload.headers).toEqual({
      "content-type": "application/pdf",
      "content-disposition": contentDisposition(filename),
    });
    const key = claimsOf(upload.uploadId).k;
    expect(key).toBe(new URL(upload.url).pathname.replace("/bucket/", ""));

    // Completing before anything arrived is a clear 400.
    const early = await complete(product.slug, { uploadId: upload.uploadId });
    expect(early.status).toBe(400);

    // Storage refuses other bytes than the declared length (it is signed into the URL).
    const wrong = await fetch(upload.url, {
      method: "PUT",
      headers: upload.headers,
      body: bytes.slice(1),
    });
    expect(wrong.status).toBe(403);
    const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: bytes });
    expect(put.status).toBe(200);

    const done = await complete(product.slug, { uploadId: upload.uploadId });
    expect(done.status).toBe(201);
    const asset = (await done.json()) as Record<string, unknown>;
    expect(asset).toMatchObject({
      productId: product.id,
      filename,
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: "application/pdf",
      version: 1,
      active: true,
    });
    expect(key).toBe(`products/${product.id}/${asset.id}`);
    expect(server.object(key)).toMatchObject({ contentDisposition: contentDisposition(filename) });

    // Completing again answers the same asset and records nothing more.
    const again = await complete(product.slug, { uploadId: upload.uploadId });
    expect(again.status).toBe(201);
    expect(((await again.json()) as { id: string }).id).toBe(asset.id);
    expect(await assetsOf(product.slug)).toHaveLength(1);

    const downloaded = await buyerDownload(product.slug, asset.id as string);
    expect(sha256(downloaded)).toBe(sha256(bytes));
    expect(downloaded.length).toBe(bytes.length);
  });

  it("multipart: three equal parts PUT straight to storage, completed with their ETags", async () => {
    const product = await h.createProduct();
    // An earlier raw upload of the same name becomes version 1 and is retired.
    const first = await h.upload(product.slug, "film.mp4", "old cut");
    const bytes = patterned(2 * 8 * MiB + 1234, 13);
    const res = await start(product.slug, {
      filename: "film.mp4",
      size: bytes.length,
      contentType: "video/mp4",
    });
    expect(res.status).toBe(201);
    const upload = (await res.json()) as MultipartUpload;
    expect(upload.partSize).toBe(8 * MiB);
    expect(upload.parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 8 * MiB],
      [2, 8 * MiB],
      [3, 1234],
    ]);
    expect(server.pendingUploads()).toHaveLength(1);

    const etags: { partNumber: number; etag: string }[] = [];
    let offset = 0;
    for (const part of upload.parts) {
      const put = await fetch(part.url, {
        method: "PUT",
        body: bytes.slice(offset, offset + part.size),
      });
      expect(put.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: put.headers.get("etag") ?? "" });
      offset += part.size;
    }

    // Without the parts, or with some missing, nothing happens.
    expect((await complete(product.slug, { uploadId: upload.uploadId })).status).toBe(400);
    const missing = await complete(product.slug, {
      uploadId: upload.uploadId,
      parts: etags.slice(0, 2),
    });
    expect(missing.status).toBe(400);
    const wrongEtag = await complete(product.slug, {
      uploadId: upload.uploadId,
      parts: etags.map((p, i) => (i === 1 ? { ...p, etag: '"0000"' } : p)),
    });
    expect(wrongEtag.status).toBe(400);
    expect(((await wrongEtag.json()) as { message: string }).message).toMatch(/InvalidPart/);
    expect(server.pendingUploads()).toHaveLength(1);

    const done = await complete(product.slug, {
      uploadId: upload.uploadId,
      parts: [...etags].reverse(),
    });
    expect(done.status).toBe(201);
    const asset = (await done.json()) as { id: string; sha256: string; version: number };
    expect(asset).toMatchObject({ sha256: sha256(bytes), version: 2, size: bytes.length });
    expect(server.pendingUploads()).toEqual([]);
    expect(server.object(`products/${product.id}/${asset.id}`)).toMatchObject({
      size: bytes.length,
      contentType: "video/mp4",
    });
    const assets = (await assetsOf(product.slug)) as { id: string; active: boolean }[];
    expect(assets.find((a) => a.id === first.id)?.active).toBe(false);

    const downloaded = await buyerDownload(product.slug, asset.id);
    expect(sha256(downloaded)).toBe(sha256(bytes));
  });

  it("a forged or altered upload id is a 400 and records nothing", async () => {
    const product = await h.createProduct();
    const other = await h.createProduct();
    const bytes = patterned(100);
    const upload = (await (
      await start(product.slug, { filename: "a.bin", size: bytes.length })
    ).json()) as PutUpload;
    await fetch(upload.url, { method: "PUT", headers: upload.headers, body: bytes });

    const [prefix, payload, signature] = upload.uploadId.split(".");
    const claims = claimsOf(upload.uploadId);
    const altered = Buffer.from(JSON.stringify({ ...claims, f: "b.bin" })).toString("base64url");
    const forged = [
      `${prefix}.${altered}.${signature}`,
      `${prefix}.${payload}.${"A".repeat(signature?.length ?? 43)}`,
      `${prefix}.${payload}`,
      "nonsense",
    ];
    for (const uploadId of forged) {
      const res = await complete(product.slug, { uploadId });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/not valid/);
    }
    // A genuine id used on another product's path is refused too.
    expect((await complete(other.slug, { uploadId: upload.uploadId })).status).toBe(400);
    expect(await assetsOf(product.slug)).toEqual([]);
    expect(await assetsOf(other.slug)).toEqual([]);
  });

  it("an expired upload is a 400, and what was uploaded for it is removed", async () => {
    const product = await h.createProduct();
    const bytes = patterned(100);
    const upload = (await (
      await start(product.slug, { filename: "late.bin", size: bytes.length })
    ).json()) as PutUpload;
    await fetch(upload.url, { method: "PUT", headers: upload.headers, body: bytes });
    const key = claimsOf(upload.uploadId).k;
    expect(server.object(key)).not.toBeNull();
    h.clock.advance(26 * 3600_000);
    const res = await complete(product.slug, { uploadId: upload.uploadId });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/expired/);
    expect(server.object(key)).toBeNull();
    expect(await assetsOf(product.slug)).toEqual([]);
  });

  it("an object of another size than declared is removed, with a 400", async () => {
    const product = await h.createProduct();
    const upload = (await (
      await start(product.slug, { filename: "short.bin", size: 100 })
    ).json()) as PutUpload;
    const key = claimsOf(upload.uploadId).k;
    // A store that did not hold the client to the signed length: 60 bytes arrive.
    await h.deps.store.put(key, new Blob([patterned(60)]).stream(), {
      contentType: "application/octet-stream",
      contentDisposition: contentDisposition("short.bin"),
    });
    const res = await complete(product.slug, { uploadId: upload.uploadId });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/60 bytes/);
    expect(server.object(key)).toBeNull();
    expect(await assetsOf(product.slug)).toEqual([]);
  });

  it("a file over MAX_UPLOAD_SIZE is refused with 413 before anything is signed", async () => {
    const product = await h.createProduct();
    const pending = server.pendingUploads().length;
    const res = await start(product.slug, {
      filename: "huge.bin",
      size: h.config.maxUploadBytes + 1,
    });
    expect(res.status).toBe(413);
    expect(server.pendingUploads()).toHaveLength(pending);
  });

  it("bad input is a 400 that names the field", async () => {
    const product = await h.createProduct();
    const res = await start(product.slug, { filename: "x.bin", size: -1 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/size/);
    expect((await start("no-such-product", { filename: "x.bin", size: 1 })).status).toBe(404);
  });

  it("is for admins only", async () => {
    const product = await h.createProduct();
    const path = `/api/admin/products/${product.slug}/uploads`;
    const body = JSON.stringify({ filename: "x.bin", size: 10 });
    const headers = { "content-type": "application/json" };
    expect((await h.request(path, { method: "POST", headers, body })).status).toBe(401);
    const cookie = await h.signIn(`nobody-${Math.random().toString(36).slice(2)}@example.com`);
    expect((await h.request(path, { method: "POST", headers, body, cookie })).status).toBe(403);
    const completing = await h.request(`${path}/complete`, {
      method: "POST",
      headers,
      body: JSON.stringify({ uploadId: "x" }),
      cookie,
    });
    expect(completing.status).toBe(403);
  });
});

describe.each(dialects)("direct uploads with local storage, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers the POST fallback to the raw-body upload, which works", async () => {
    const product = await h.createProduct();
    const res = await h.admin(`/api/admin/products/${product.slug}/uploads`, {
      method: "POST",
      json: { filename: "notes ü.txt", size: 5 },
    });
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { uploadId: null; method: string; url: string };
    expect(answer).toEqual({
      uploadId: null,
      method: "POST",
      url: `${PUBLIC_URL}/api/admin/products/${product.slug}/assets?filename=notes+%C3%BC.txt`,
    });
    const uploaded = await h.admin(answer.url, { method: "POST", body: "hello" });
    expect(uploaded.status).toBe(201);
    expect(await uploaded.json()).toMatchObject({ filename: "notes ü.txt", size: 5 });

    const over = await h.admin(`/api/admin/products/${product.slug}/uploads`, {
      method: "POST",
      json: { filename: "big.bin", size: h.config.maxUploadBytes + 1 },
    });
    expect(over.status).toBe(413);
  });
});
