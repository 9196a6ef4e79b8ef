import { calculateJwkThumbprint, importJWK, type JWK, SignJWT } from "jose";
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
  const first = keys[0] as JWK;
  const signingKey = await importJWK({ ...first, alg: "EdDSA" }, "EdDSA");
  const kid = published[0]?.kid as string;
  return {
    sign: (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" }).sign(signingKey),
    publicKeys: async () => ({ keys: published }),
  };
}
