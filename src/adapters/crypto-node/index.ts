import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Crypto } from "../../core/ports.ts";

/** node:crypto is synchronous and ~20x cheaper per call than crypto.subtle on Node. */
export const nodeCrypto: Crypto = {
  randomBytes: (length) => new Uint8Array(randomBytes(length)),
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
