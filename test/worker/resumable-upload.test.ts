/**
 * Resumable uploads through a Worker with only its R2 binding (no S3 keys; decision 0025): the
 * real bundle in workerd takes a file in 8 MiB parts (`kind: "chunked"`), stored with R2's own
 * multipart API on the binding, tells which parts arrived from its marker objects, lets R2 join
 * them, and checks the whole file's SHA-256. test/storage/resumable-upload.test.ts makes the same
 * checks on Node (S3 and the local folder).
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "../support/harness.ts";
import {
  freshWorkerDatabase,
  type RunningWorker,
  readWrangler,
  startWorker,
  type WorkerDatabase,
} from "./support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const BUCKET = readWrangler().r2_buckets[0]?.bucket_name as string;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const json = { ...admin, "content-type": "application/json" };
const MiB = 1024 * 1024;
const PART = 8 * MiB;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Distinct bytes in every part, so a part out of place changes the hash. */
function fileBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
  return bytes;
}

describe.skipIf(!TEST_DATABASE_URL)(
  "resumable uploads through a Worker with only R2's binding",
  () => {
    let database: WorkerDatabase;
    let worker: RunningWorker;
    const slug = "big-kit";

    beforeAll(async () => {
      database = await freshWorkerDatabase(TEST_DATABASE_URL as string);
      worker = await startWorker({
        databaseUrl: database.url,
        vars: {
          SESSION_SECRET: "worker-session-secret-0123456789abcdef",
          ADMIN_TOKEN,
          STRIPE_SECRET_KEY: "sk_test_local",
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
          STORAGE_URL: `r2://${BUCKET}`,
          DELIVERY_MODE: "proxy",
          PUBLIC_URL: "https://shop.example.com",
        },
      });
      const created = await worker.fetch("/api/admin/products", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ slug, name: "Big Kit", price: { amount: 900, currency: "usd" } }),
      });
      expect(created.status).toBe(201);
    }, 120_000);
    afterAll(async () => {
      await worker?.close();
      await database?.drop();
    });

    const post = (path: string, body: unknown) =>
      worker.fetch(`/api/admin/products/${slug}/uploads${path}`, {
        method: "POST",
        headers: json,
        body: JSON.stringify(body),
      });

    async function start(filename: string, size: number) {
      const res = await post("", { filename, size, resumable: true });
      expect(res.status).toBe(201);
      return (await res.json()) as {
        uploadId: string;
        kind: string;
        partSize: number;
        partCount: number;
      };
    }

    /** Signs part `n` as a client does, then PUTs its bytes to the shop's URL it was given. */
    async function sendPart(uploadId: string, n: number, bytes: Uint8Array<ArrayBuffer>) {
      const signed = await post("/parts", { uploadId, partNumber: n });
      expect(signed.status).toBe(200);
      const { url, size, method } = (await signed.json()) as {
        url: string;
        size: number;
        method: string;
      };
      expect(method).toBe("PUT");
      const part = bytes.subarray((n - 1) * PART, n * PART);
      expect(size).toBe(part.byteLength);
      // The URL names the shop's public address; the test reaches the same Worker locally.
      const { pathname, search } = new URL(url);
      return worker.fetch(`${pathname}${search}`, { method: "PUT", headers: admin, body: part });
    }

    const keys = async () =>
      (await (await worker.bucket()).list()).objects.map((o) => o.key).sort();

    it("takes 40 MiB in 8 MiB parts, resumes from what arrived, and serves the file R2 joined", async () => {
      const bytes = fileBytes(40 * MiB);
      const before = await keys();
      const started = await start("big.bin", bytes.byteLength);
      expect(started).toMatchObject({ kind: "chunked", partSize: PART, partCount: 5 });
      const { uploadId } = started;

      for (const n of [1, 2, 3]) {
        const res = await sendPart(uploadId, n, bytes);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ partNumber: n, size: PART });
      }
      // A short part is refused and not counted as arrived.
      const short = await worker.fetch(
        `/api/admin/products/${slug}/uploads/parts/4?uploadId=${encodeURIComponent(uploadId)}`,
        { method: "PUT", headers: admin, body: bytes.subarray(3 * PART, 3 * PART + MiB) },
      );
      expect(short.status).toBe(400);

      // The client was stopped here: it asks what arrived.
      const status = await post("/status", { uploadId });
      expect(status.status).toBe(200);
      const half = (await status.json()) as {
        kind: string;
        parts: { partNumber: number; size: number; etag: string }[];
        uploadedBytes: number;
        assetId: string | null;
      };
      expect(half.kind).toBe("chunked");
      expect(half.parts.map((p) => [p.partNumber, p.size])).toEqual([
        [1, PART],
        [2, PART],
        [3, PART],
      ]);
      expect(half.parts.every((p) => p.etag.length > 0)).toBe(true);
      expect(half.uploadedBytes).toBe(3 * PART);
      expect(half.assetId).toBeNull();
      // Nothing is an object yet, only the upload's small markers.
      const during = (await keys()).filter((k) => !before.includes(k));
      expect(during.filter((k) => !/\.upload$|\.parts\/\d{5}$/.test(k))).toEqual([]);
      expect(during.filter((k) => k.includes(".parts/"))).toHaveLength(3);

      // Completing before the rest arrived names what is missing.
      const early = await post("/complete", { uploadId, sha256: sha256(bytes) });
      expect(early.status).toBe(400);
      expect(await early.text()).toMatch(/first: part 4/);

      for (const n of [4, 5]) expect((await sendPart(uploadId, n, bytes)).status).toBe(200);
      const done = await post("/complete", { uploadId, sha256: sha256(bytes) });
      expect(done.status).toBe(201);
      const asset = (await done.json()) as { id: string; size: number; sha256: string };
      expect(asset).toMatchObject({ size: bytes.byteLength, sha256: sha256(bytes) });
      // Only the object stays: R2 joined the parts, the markers went with the upload.
      const added = (await keys()).filter((k) => !before.includes(k));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(new RegExp(`/${asset.id}$`));

      const granted = await worker.fetch("/api/admin/grants", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "buyer@example.com", product: slug }),
      });
      expect(granted.status).toBe(201);
      const link = await worker.fetch("/api/admin/tokens", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "buyer@example.com", product: slug, expiresIn: "24h" }),
      });
      expect(link.status).toBe(201);
      const { token } = (await link.json()) as { token: string };
      const download = await worker.fetch(`/d/${token}/${asset.id}`);
      expect(download.status).toBe(200);
      const downloaded = new Uint8Array(await download.arrayBuffer());
      expect(downloaded.byteLength).toBe(bytes.byteLength);
      expect(sha256(downloaded)).toBe(sha256(bytes));
    }, 120_000);

    it("refuses a wrong SHA-256 with 422 and leaves nothing in R2", async () => {
      const bytes = fileBytes(PART + 3 * MiB);
      const before = await keys();
      const { uploadId, partCount } = await start("wrong.bin", bytes.byteLength);
      expect(partCount).toBe(2);
      for (const n of [1, 2]) expect((await sendPart(uploadId, n, bytes)).status).toBe(200);
      const refused = await post("/complete", { uploadId, sha256: "0".repeat(64) });
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({ code: "unprocessable" });
      expect(await keys()).toEqual(before);
    }, 60_000);

    it("takes a file of one small part, and an empty one, the same way", async () => {
      for (const size of [1000, 0]) {
        const bytes = fileBytes(size);
        const before = await keys();
        const { uploadId, kind, partCount } = await start(`small-${size}.bin`, size);
        expect({ kind, partCount }).toEqual({ kind: "chunked", partCount: 1 });
        expect((await sendPart(uploadId, 1, bytes)).status).toBe(200);
        const done = await post("/complete", { uploadId, sha256: sha256(bytes) });
        expect(done.status).toBe(201);
        expect(await done.json()).toMatchObject({ size, sha256: sha256(bytes) });
        expect((await keys()).filter((k) => !before.includes(k))).toHaveLength(1);
      }
    }, 60_000);

    it("drops the parts and markers of an aborted upload", async () => {
      const bytes = fileBytes(2 * PART + 1);
      const before = await keys();
      const { uploadId } = await start("dropped.bin", bytes.byteLength);
      expect((await sendPart(uploadId, 1, bytes)).status).toBe(200);
      expect((await keys()).length).toBeGreaterThan(before.length);
      const aborted = await post("/abort", { uploadId });
      expect(aborted.status).toBe(200);
      expect(await aborted.json()).toEqual({ aborted: true });
      expect(await keys()).toEqual(before);
      // The upload is gone: a part sent now is refused, and completing finds nothing.
      expect((await sendPart(uploadId, 2, bytes)).status).toBe(400);
      expect((await post("/complete", { uploadId })).status).toBe(400);
      expect(await keys()).toEqual(before);
    }, 60_000);
  },
);
