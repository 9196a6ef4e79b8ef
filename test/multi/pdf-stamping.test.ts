import { readdirSync } from "node:fs";
import { join } from "node:path";
import { PDFDocument, StandardFonts } from "@cantoo/pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageTexts } from "../../src/adapters/stamper-pdflib/index.ts";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";
import { shopClient } from "../support/shop-client.ts";
import { waitFor } from "../support/stripe.ts";

/**
 * PDF stamping with two `serve` processes on one Postgres (decision 0026): every buyer's first
 * download, sent to both processes at once, queues one copy, and the two background stampers
 * (each woken by its own requests) stamp each copy once: one "PDF stamped", one stored object.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)("PDF stamping on two processes", () => {
  let servers: ServerProcesses;
  beforeAll(async () => {
    servers = await startServers({ count: 2 });
  });
  afterAll(() => servers?.stop());

  it("each buyer's copy is stamped once, whichever process is asked", async () => {
    const shop = shopClient(servers.urls[0] as string, servers.adminToken);
    await shop.createProduct("atlas", { stamp: { pdfs: true } });
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    for (let i = 1; i <= 3; i++)
      doc.addPage().drawText(`Map ${i}`, { x: 72, y: 700, size: 20, font });
    const asset = await shop.upload("atlas", "atlas.pdf", new Uint8Array(await doc.save()));
    const buyers = Array.from({ length: 6 }, (_, i) => `reader${i}-${Date.now()}@example.com`);
    const paths: string[] = [];
    for (const email of buyers) {
      await shop.grant(email, "atlas");
      const link = await shop.token({ email, product: "atlas", expiresIn: "1h" });
      paths.push(`${new URL(link.url).pathname}/${asset.id}`);
    }
    // Each buyer asks both processes at once, twice over.
    const ask = (path: string, i: number) => fetch(`${servers.urls[i % 2]}${path}`);
    const first = await Promise.all(
      paths.flatMap((path) => [0, 1, 2, 3].map((i) => ask(path, i).then((r) => r.status))),
    );
    expect(first.every((s) => s === 503 || s === 200)).toBe(true);
    const copies = new Map<string, Uint8Array>();
    await waitFor(async () => {
      for (const [i, path] of paths.entries()) {
        if (copies.has(path)) continue;
        const res = await ask(path, i);
        if (res.status === 200) copies.set(path, new Uint8Array(await res.arrayBuffer()));
        else await res.text();
      }
      return copies.size === paths.length;
    }, "every buyer's copy");
    for (const [i, path] of paths.entries()) {
      const texts = await pageTexts(copies.get(path) as Uint8Array);
      expect(texts).toHaveLength(3);
      for (const text of texts) expect(text).toContain(`Licensed to ${buyers[i]}`);
    }
    // One stamp each, across both processes, and one stored copy each.
    const stamped = servers.output().match(/PDF stamped/g) ?? [];
    expect(stamped).toHaveLength(buyers.length);
    const files = join(servers.env.STORAGE_URL?.slice("file:".length) as string, "stamped");
    expect(readdirSync(join(files, asset.id))).toHaveLength(buyers.length);
  });
});
