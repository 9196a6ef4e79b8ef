import {
  CompactSign,
  calculateJwkThumbprint,
  compactVerify,
  importJWK,
  type JWK,
  SignJWT,
} from "jose";
import type { LicenseSigner } from "../../core/ports.ts";

/**
 * Licence files signed with Ed25519 (JWS `alg` EdDSA) through jose, on Web Crypto in Node and
 * Workers alike. `keys` are private JWKs: the first signs, all are published (their public
 * halves), so a rotation keeps files signed with the old key verifiable until they expire.
 * A key's id is its own `kid`, or its RFC 7638 thumbprint.
 */
export async function joseLicenseSigner(keys: JWK[]): Promise<LicenseSigner> {
  if (keys.length === 0) throw new Error("A licence signer needs at least one key.");
  const published = await Promise.all(
    keys.map(async ({ kty, crv, x, kid }) => {
      const id = kid ?? (await calculateJwkThumbprint({ kty, crv, x } as JWK));
      return { kty, crv, x, kid: id, alg: "EdDSA", use: "sig" } as Record<string, unknown>;
    }),
  );
  await Promise.all(keys.map((key, i) => checkKeyPair(key, published[i]?.kid as string)));
  const first = keys[0] as JWK;
  const signingKey = await importJWK({ ...first, alg: "EdDSA" }, "EdDSA");
  const kid = published[0]?.kid as string;
  return {
    sign: (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" }).sign(signingKey),
    publicKeys: async () => ({ keys: published }),
  };
}

/**
 * A key whose private part (d) is not its public part's (x) would sign files that the published
 * key never verifies: every offline licence would be refused. Refused at start instead.
 */
async function checkKeyPair(key: JWK, kid: string): Promise<void> {
  if (!key.d) return;
  try {
    // Node's Web Crypto refuses such a key when importing it ("Invalid keyData"); a runtime
    // that does not is caught by the signature its public part fails to verify.
    const probe = new TextEncoder().encode("tollgate: does d belong to x?");
    const signed = await new CompactSign(probe)
      .setProtectedHeader({ alg: "EdDSA" })
      .sign(await importJWK({ ...key, alg: "EdDSA" }, "EdDSA"));
    const publicKey = await importJWK({ kty: key.kty, crv: key.crv, x: key.x } as JWK, "EdDSA");
    await compactVerify(signed, publicKey);
  } catch {
    throw new Error(
      `LICENSE_SIGNING_KEY: the private part (d) of key ${kid} does not belong to its public part (x), so no licence file it signed could be verified. Make a new key with npx tollgate license keygen, or copy the key again whole.`,
    );
  }
}
