import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeCrypto } from "../../src/adapters/crypto-node/index.ts";
import { webCrypto } from "../../src/adapters/crypto-web/index.ts";

const web = webCrypto();
const data = fc.oneof(fc.string(), fc.uint8Array({ maxLength: 300 }));

describe("the Web Crypto port (Workers)", () => {
  it("hashes and signs exactly as node:crypto does", async () => {
    await fc.assert(
      fc.asyncProperty(data, data, async (key, message) => {
        expect(await web.sha256(message)).toEqual(await nodeCrypto.sha256(message));
        expect(await web.hmacSha256(key, message)).toEqual(
          await nodeCrypto.hmacSha256(key, message),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("keeps signing right when the same key comes back (its imported key is cached)", async () => {
    const key = new Uint8Array([1, 2, 3]);
    const first = await web.hmacSha256(key, "a");
    expect(await web.hmacSha256(key, "b")).toEqual(await nodeCrypto.hmacSha256(key, "b"));
    expect(await web.hmacSha256(key, "a")).toEqual(first);
    expect(await web.hmacSha256("secret", "a")).toEqual(await nodeCrypto.hmacSha256("secret", "a"));
  });

  it("gives random bytes of the asked length", () => {
    expect(web.randomBytes(32)).toHaveLength(32);
    expect(web.randomBytes(32)).not.toEqual(web.randomBytes(32));
  });

  it("says plainly that streaming hashes need Workers' DigestStream", () => {
    expect(() => web.createSha256()).toThrow(/DigestStream.*Cloudflare Workers/);
  });
});
