/**
 * The ObjectStore contract (./objectStore.contract.ts) against LocalObjectStore: files in a
 * folder of the real app (the harness), whose signed URLs the app's /files route serves.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { LocalObjectStore } from "../../src/adapters/storage-local/index.ts";
import { makeHarness } from "../support/harness.ts";
import { objectStoreContract } from "./objectStore.contract.ts";

const GiB = 1024 * 1024 * 1024;

objectStoreContract(
  "LocalObjectStore (files in a folder, signed URLs served by the app)",
  async () => {
    const h = await makeHarness("sqlite");
    const { storage } = h.config;
    if (storage.kind !== "local") throw new Error("the harness stores files locally");
    return {
      store: h.deps.store,
      signedUrls: {
        fetch: (url, init) => h.request(url, init),
        advanceClock: (ms) => h.clock.advance(ms),
      },
      largeObject: {
        bytes: GiB,
        // Sparse: no disk used.
        async create(key) {
          const path = join(storage.root, ...key.split("/"));
          mkdirSync(dirname(path), { recursive: true });
          await writeFile(path, "");
          await truncate(path, GiB);
        },
        headroomMiB: { rss: 96, arrayBuffers: 96 },
      },
      async unreachable() {
        // A folder that cannot be made: its parent is a file.
        const file = join(mkdtempSync(join(tmpdir(), "tollgate-not-a-folder-")), "file");
        writeFileSync(file, "");
        return new LocalObjectStore(join(file, "files"), "s".repeat(40), "http://shop.test");
      },
      close: () => h.close(),
    };
  },
);
