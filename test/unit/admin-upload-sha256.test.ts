/**
 * The seller page hashes files of any size in the browser (crypto.subtle cannot hash in parts):
 * its own incremental SHA-256 (src/pages/static/adminJs.ts) must agree with node:crypto for
 * every way the bytes may be cut, block edges and padding edges included.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { adminJs } from "../../src/pages/static/adminJs.ts";

type Hasher = { update(bytes: Uint8Array): void; hex(): string };

function pageHasher(): () => Hasher {
  const start = adminJs.indexOf("function sha256Hasher()");
  let depth = 0;
  let end = start;
  for (let i = adminJs.indexOf("{", start); i < adminJs.length; i++) {
    if (adminJs[i] === "{") depth++;
    if (adminJs[i] === "}" && --depth === 0) {
      end = i + 1;
      break;
    }
  }
  return new Function(`${adminJs.slice(start, end)}; return sha256Hasher;`)();
}

describe("the seller page's SHA-256", () => {
  const make = pageHasher();
  it.each([0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 3 * 1024 * 1024 + 17])(
    "%i bytes, fed in uneven pieces",
    (length) => {
      const data = randomBytes(length);
      const hash = make();
      let at = 0;
      let step = 1;
      while (at < length) {
        const take = Math.min(length - at, step);
        hash.update(new Uint8Array(data.subarray(at, at + take)));
        at += take;
        step = (step * 7 + 13) % 70_001;
      }
      expect(hash.hex()).toBe(createHash("sha256").update(data).digest("hex"));
    },
  );
});
