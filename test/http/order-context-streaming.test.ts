import { mkdtempSync } from "node:fs";
import { truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { drainMeasuringMemory } from "../support/memory.ts";
import { readZip, sha256 } from "./order-context-support.ts";

const MiB = 1024 * 1024;

describe.each(dialects)("download all streams on %s", (dialect) => {
  describe("three large files", () => {
    const root = mkdtempSync(join(tmpdir(), "tollgate-zip-"));
    const FILE = 64 * MiB;
    let h: Harness;
    let cookie: string;
    let slug: string;
    let ids: string[];

    beforeAll(async () => {
      h = await makeHarness(dialect, { STORAGE_URL: `file:${root}` });
      const product = await h.createProduct({ name: "Big Bundle" });
      slug = product.slug;
      ids = [];
      for (const name of ["one.bin", "two.bin", "three.bin"]) {
        const asset = await h.upload(slug, name, "x");
        // Grown in place, sparse: 64 MiB of zeros each without writing them.
        const row = await h.deps.db
          .selectFrom("assets")
          .select("storage_key")
          .where("id", "=", asset.id)
          .executeTakeFirstOrThrow();
        await truncate(join(root, ...row.storage_key.split("/")), FILE);
        await h.deps.db
          .updateTable("assets")
          .set({ size: FILE })
          .where("id", "=", asset.id)
          .execute();
        ids.push(asset.id);
      }
      await h.grant("big@example.com", slug);
      cookie = await h.signIn("big@example.com");
    });
    afterAll(() => h.close());

    it("in constant memory: 192 MiB of files go through while the process grows far less", async () => {
      const res = await h.request(`/library/${slug}/all.zip`, { cookie });
      expect(res.status).toBe(200);
      const length = Number(res.headers.get("content-length"));
      expect(length).toBeGreaterThan(3 * FILE);
      const { read, chunks, growth } = await drainMeasuringMemory(res.body as ReadableStream);
      expect(read).toBe(length);
      expect(chunks).toBeGreaterThan(100);
      // Holding the archive, or even one file, would take 64 MiB or more.
      expect(growth.arrayBuffers).toBeLessThan(48);
      expect(growth.rss).toBeLessThan(48);
      await h.runtime.settle();
      const log = await h.deps.db
        .selectFrom("downloads")
        .select("asset_id")
        .where("asset_id", "in", ids)
        .execute();
      expect(log.map((d) => d.asset_id).sort()).toEqual([...ids].sort());
    });
  });

  describe("in redirect mode", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await makeHarness(dialect, { DELIVERY_MODE: "redirect" });
    });
    afterAll(() => h.close());

    it("the zip still carries the bytes (a signed URL cannot go in a zip), each file logged once", async () => {
      const { product, asset } = await h.ownedProduct("redirect@example.com", "first file");
      const second = await h.upload(product.slug, "Another.txt", "second file");
      const cookie = await h.signIn("redirect@example.com");
      const single = await h.request(`/download/${product.slug}/${asset.id}`, { cookie });
      expect(single.status).toBe(302);

      const res = await h.request(`/library/${product.slug}/all.zip`, { cookie });
      expect(res.status).toBe(200);
      const entries = readZip(new Uint8Array(await res.arrayBuffer()));
      expect(entries.map((e) => e.name)).toEqual(["Another.txt", "kit.zip"]);
      expect(sha256(entries[0]?.bytes as Uint8Array)).toBe(second.sha256);
      expect(sha256(entries[1]?.bytes as Uint8Array)).toBe(asset.sha256);
      await h.runtime.settle();
      const log = await h.deps.db
        .selectFrom("downloads")
        .select("asset_id")
        .where("asset_id", "in", [asset.id, second.id])
        .execute();
      // The single download before, then one row per file of the zip.
      expect(log.filter((d) => d.asset_id === asset.id)).toHaveLength(2);
      expect(log.filter((d) => d.asset_id === second.id)).toHaveLength(1);
    });

    it("a HEAD says what the zip would be without opening or logging anything", async () => {
      const { product, asset } = await h.ownedProduct("head@example.com", "head bytes");
      const cookie = await h.signIn("head@example.com");
      const head = await h.request(`/library/${product.slug}/all.zip`, { method: "HEAD", cookie });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get("content-length"))).toBeGreaterThan(10);
      await h.runtime.settle();
      const log = await h.deps.db
        .selectFrom("downloads")
        .select("id")
        .where("asset_id", "=", asset.id)
        .execute();
      expect(log).toHaveLength(0);
    });
  });
});
