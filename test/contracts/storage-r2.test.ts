/**
 * The ObjectStore contract (./objectStore.contract.ts) against R2BindingStore, on a real R2
 * bucket binding: Miniflare runs workerd, and Node reaches the binding through its proxy. Without
 * R2 API keys, as a Worker in proxy mode runs it: no signed URLs, no direct uploads.
 */
import { Miniflare } from "miniflare";
import { R2BindingStore, type R2Bucket } from "../../src/adapters/storage-r2/index.ts";
import { objectStoreContract } from "./objectStore.contract.ts";

const MiB = 1024 * 1024;

/**
 * A Worker whose only job is to make a large object inside workerd (GET /?key=&size=), since
 * bytes put from Node cross Miniflare's proxy slowly.
 */
const WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const size = Number(url.searchParams.get("size"));
    const { readable, writable } = new FixedLengthStream(size);
    const writer = writable.getWriter();
    const fill = (async () => {
      const chunk = new Uint8Array(1024 * 1024).fill(7);
      for (let left = size; left > 0; left -= chunk.length)
        await writer.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      await writer.close();
    })();
    await Promise.all([env.FILES.put(url.searchParams.get("key"), readable), fill]);
    return new Response("made");
  },
};`;

const start = () => new Miniflare({ modules: true, script: WORKER, r2Buckets: ["FILES"] });
const bucketOf = async (mf: Miniflare) => (await mf.getR2Bucket("FILES")) as unknown as R2Bucket;

objectStoreContract("R2BindingStore (a real R2 bucket binding in Miniflare)", async () => {
  const mf = start();
  const bucket = await bucketOf(mf);
  // Smaller than elsewhere: R2 in workerd writes some 50 MiB a second.
  const largeBytes = 64 * MiB;
  return {
    store: new R2BindingStore({ bucket }),
    async storedMetadata(key) {
      const object = await bucket.head(key);
      return object
        ? {
            contentType: object.httpMetadata?.contentType ?? "",
            contentDisposition: object.httpMetadata?.contentDisposition ?? "",
          }
        : null;
    },
    largeObject: {
      bytes: largeBytes,
      async create(key) {
        const query = new URLSearchParams({ key, size: String(largeBytes) });
        const res = await mf.dispatchFetch(`http://r2.test/?${query}`);
        if ((await res.text()) !== "made") throw new Error("the Worker made no object");
      },
      // Buffering the object would take all 64 MiB.
      headroomMiB: { rss: 48, arrayBuffers: 40 },
    },
    async unreachable() {
      // A binding whose workerd is gone.
      const gone = start();
      const stale = await bucketOf(gone);
      await gone.dispose();
      return new R2BindingStore({ bucket: stale });
    },
    close: () => mf.dispose(),
  };
});
