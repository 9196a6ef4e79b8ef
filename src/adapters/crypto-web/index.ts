import { toHex } from "../../core/encoding.ts";
import type { Crypto, IncrementalHash } from "../../core/ports.ts";

/**
 * The Crypto port on Web Crypto (`crypto.subtle`), for Cloudflare Workers, where it runs in the
 * isolate's own thread (on Node every call goes to a worker thread: use crypto-node there).
 * Incremental hashing uses Workers' `crypto.DigestStream`, which Web Crypto lacks.
 */
export function webCrypto(): Crypto {
  const subtle = globalThis.crypto.subtle;
  const encoder = new TextEncoder();
  const bytesOf = (data: string | Uint8Array) =>
    (typeof data === "string" ? encoder.encode(data) : data) as Uint8Array<ArrayBuffer>;

  // Importing a key costs about as much as the HMAC itself: keep the keys that come back, the
  // secrets by value and derived keys (SigV4's signing key, cached per day) by identity.
  const textKeys = new Map<string, Promise<CryptoKey>>();
  const byteKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
  // Web Crypto refuses an empty HMAC key; HMAC pads keys with zeros, so one zero byte is the same.
  const importKey = (raw: Uint8Array) =>
    subtle.importKey(
      "raw",
      (raw.byteLength ? raw : new Uint8Array(1)) as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  const hmacKey = (key: string | Uint8Array): Promise<CryptoKey> => {
    if (typeof key === "string") {
      let found = textKeys.get(key);
      if (!found) {
        if (textKeys.size >= 64) textKeys.clear();
        found = importKey(encoder.encode(key));
        textKeys.set(key, found);
      }
      return found;
    }
    let found = byteKeys.get(key);
    if (!found) {
      found = importKey(key);
      byteKeys.set(key, found);
    }
    return found;
  };

  return {
    randomBytes: (length) => globalThis.crypto.getRandomValues(new Uint8Array(length)),
    sha256: async (data) => new Uint8Array(await subtle.digest("SHA-256", bytesOf(data))),
    hmacSha256: async (key, data) =>
      new Uint8Array(await subtle.sign("HMAC", await hmacKey(key), bytesOf(data))),
    createSha256: () => digestStreamHash(),
  };
}

/** Workers' non-standard DigestStream: a WritableStream whose `digest` resolves when closed. */
interface DigestStream extends WritableStream<ArrayBufferView> {
  readonly digest: Promise<ArrayBuffer>;
}

function digestStreamHash(): IncrementalHash {
  const DigestStream = (
    globalThis.crypto as unknown as { DigestStream?: new (algorithm: string) => DigestStream }
  ).DigestStream;
  if (!DigestStream)
    throw new Error(
      "crypto.DigestStream is missing: the crypto-web adapter is for Cloudflare Workers",
    );
  const stream = new DigestStream("SHA-256");
  const writer = stream.getWriter();
  let failure: unknown = null;
  return {
    update(chunk) {
      // A copy: the caller passes the same chunk on to storage, which may hold on to it.
      writer.write(chunk.slice()).catch((error) => {
        failure ??= error;
      });
    },
    async digestHex() {
      await writer.close();
      if (failure) throw failure;
      return toHex(new Uint8Array(await stream.digest));
    },
  };
}
