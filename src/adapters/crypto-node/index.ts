import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Crypto } from "../../core/ports.ts";

/** Random bytes drawn 4 KiB at a time: one call to the system's generator per many ids. */
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let used = 0;

function pooledRandomBytes(length: number): Uint8Array {
  if (length > POOL_BYTES / 8) return new Uint8Array(randomBytes(length));
  if (used + length > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  // A copy: no two callers ever share bytes, and none is handed out twice.
  const bytes = new Uint8Array(pool.subarray(used, used + length));
  used += length;
  return bytes;
}

/** node:crypto is synchronous and ~20x cheaper per call than crypto.subtle on Node. */
export const nodeCrypto: Crypto = {
  randomBytes: pooledRandomBytes,
  sha256: async (data) => new Uint8Array(createHash("sha256").update(data).digest()),
  hmacSha256: async (key, data) => new Uint8Array(createHmac("sha256", key).update(data).digest()),
  createSha256() {
    const hash = createHash("sha256");
    return {
      update: (chunk) => void hash.update(chunk),
      digestHex: async () => hash.digest("hex"),
    };
  },
};
