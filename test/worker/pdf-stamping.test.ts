/**
 * PDF stamping on Workers (issue 19, decision 0026): the real bundle in workerd, whose PDF library
 * is a lazy chunk (`import()`), Postgres through Hyperdrive and R2 in memory. A buyer's first
 * download of a PDF queues their copy and answers "preparing"; the request stamps it after its
 * answer (waitUntil), or the per-minute Cron does; then the download is the stamped copy.
 * test/http/pdfStamping.test.ts makes the full set of checks on Node.
 */
import { PDFDocument, StandardFonts } from "@cantoo/pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHUNKS_BUDGET_GZIP_BYTES } from "../../scripts/build-worker.ts";
import { pageTexts } from "../../src/adapters/stamper-pdflib/index.ts";
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "../support/harness.ts";
import { mailApiReceiver } from "../support/mailApiReceiver.ts";
import { freePort } from "../support/server.ts";
import { waitFor } from "../support/stripe.ts";
import {
  freshWorkerDatabase,
  type RunningWorker,
  readWrangler,
  startWorker,
  type WorkerDatabase,
  workerBundle,
} from "./support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const BUCKET = readWrangler().r2_buckets[0]?.bucket_name as string;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe("the Worker bundle's PDF library", () => {
  it("is a lazy chunk: not in the main module", async () => {
    const bundle = await workerBundle();
    const { readFile } = await import("node:fs/promises");
    const main = await readFile(bundle.file, "utf8");
    // A message of the library's document loader.
    const marker = "is encrypted. You can use `PDFDocument.load(";
    expect(main).not.toContain(marker);
    const library = bundle.chunks.find((c) => c.gzipBytes > 100 * 1024);
    expect(library, "the PDF library's chunk").toBeDefined();
    expect(await readFile(library?.file as string, "utf8")).toContain(marker);
    const chunksGzip = bundle.chunks.reduce((sum, c) => sum + c.gzipBytes, 0);
    expect(chunksGzip).toBeLessThanOrEqual(CHUNKS_BUDGET_GZIP_BYTES);
  });
});

describe.skipIf(!TEST_DATABASE_URL)("PDF stamping on workerd", () => {
  let database: WorkerDatabase;
  let worker: RunningWorker;
  let mail: Awaited<ReturnType<typeof mailApiReceiver>>;

  beforeAll(async () => {
    database = await freshWorkerDatabase(TEST_DATABASE_URL as string);
    mail = await mailApiReceiver();
    const port = await freePort();
    worker = await startWorker({
      port,
      databaseUrl: database.url,
      vars: {
        SESSION_SECRET: "worker-session-secret-0123456789abcdef",
        ADMIN_TOKEN,
        ADMIN_EMAILS: "owner@shop.test",
        STRIPE_SECRET_KEY: "sk_test_local",
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STORAGE_URL: `r2://${BUCKET}`,
        DELIVERY_MODE: "proxy",
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        MAIL_URL: mail.url,
        MAIL_API_KEY: "re_worker_stamp_0123456789abcdef",
        MAIL_FROM: "Book Shop <hello@books.example>",
      },
    });
  });
  afterAll(async () => {
    await worker?.close();
    await mail?.close();
    await database?.drop();
  });

  it("a buyer's PDF: the preparing answer, then the copy stamped on every page", async () => {
    const slug = `book-${Math.random().toString(36).slice(2, 8)}`;
    const json = { ...admin, "content-type": "application/json" };
    const created = await worker.fetch("/api/admin/products", {
      method: "POST",
      headers: json,
      body: JSON.stringify({
        slug,
        name: "Star Atlas",
        price: { amount: 1500, currency: "usd" },
        stamp: { pdfs: true },
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    for (let i = 1; i <= 2; i++)
      doc.addPage().drawText(`Plate ${i}`, { x: 72, y: 700, size: 20, font });
    const uploaded = await worker.fetch(`/api/admin/products/${slug}/assets?filename=atlas.pdf`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/pdf" },
      body: new Blob([new Uint8Array(await doc.save())]),
    });
    expect(uploaded.status).toBe(201);
    const { id: assetId } = (await uploaded.json()) as { id: string };
    const email = "stargazer@example.com";
    const granted = await worker.fetch("/api/admin/grants", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, product: slug }),
    });
    expect(granted.status).toBe(201);
    const link = await worker.fetch("/api/admin/tokens", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, product: slug, expiresIn: "24h" }),
    });
    expect(link.status).toBe(201);
    const { token } = (await link.json()) as { token: string };
    const path = `/d/${token}/${assetId}`;

    const first = await worker.fetch(path, { headers: { accept: "text/html" } });
    expect(first.status).toBe(503);
    expect(await first.text()).toContain("Preparing your copy");
    let copy: Uint8Array | null = null;
    await waitFor(async () => {
      const res = await worker.fetch(path);
      if (res.status === 503) {
        await res.text();
        // The per-minute Cron stamps too, should the answer's waitUntil be over.
        await worker.scheduled("* * * * *");
        return false;
      }
      expect(res.status).toBe(200);
      copy = new Uint8Array(await res.arrayBuffer());
      return true;
    }, "the stamped copy");
    const texts = await pageTexts(copy as unknown as Uint8Array);
    expect(texts).toHaveLength(2);
    for (const text of texts) expect(text).toContain(`Licensed to ${email}, order grant `);
    const rows = await database.query<{ status: string; trace_id: string }>(
      "select status, trace_id from pdf_stamps where asset_id = $1",
      [assetId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe("ready");
  });
});
