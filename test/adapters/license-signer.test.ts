import { exportJWK, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { joseLicenseSigner } from "../../src/adapters/signing-jose/index.ts";

const privateJwk = async () => {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return exportJWK(privateKey);
};

describe("the licence signer's keys", () => {
  it("signs with a whole key, and its published half verifies the file", async () => {
    const signer = await joseLicenseSigner([await privateJwk()]);
    const token = await signer.sign({ sub: "lic_1" });
    const [published] = (await signer.publicKeys()).keys;
    const { payload } = await jwtVerify(
      token,
      (await import("jose")).createLocalJWKSet({ keys: [published as never] }),
    );
    expect(payload.sub).toBe("lic_1");
  });

  it("refuses at start a key whose private part belongs to another key", async () => {
    const [one, other] = [await privateJwk(), await privateJwk()];
    await expect(joseLicenseSigner([{ ...one, x: other.x }])).rejects.toThrow(
      /LICENSE_SIGNING_KEY: the private part \(d\) of key .+ does not belong to its public part \(x\)/,
    );
    // A retired key kept only to verify old files (no d) is fine.
    const { d: _, ...publicOnly } = other;
    await expect(joseLicenseSigner([one, publicOnly])).resolves.toBeDefined();
  });
});
