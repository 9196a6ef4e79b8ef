import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Random base62 text; the 8 bits of a byte map onto 62 letters with a negligible bias. */
export function randomText(length: number): string {
  let text = "";
  for (const byte of randomBytes(length)) text += ALPHABET[byte % ALPHABET.length];
  return text;
}

/** Ids shaped like Stripe's: `pi_` + 24 letters, Checkout Sessions `cs_test_a1` + 58. */
export const newId = (prefix: string) =>
  prefix === "cs" ? `cs_test_a1${randomText(58)}` : `${prefix}_${randomText(24)}`;

/** Unix seconds, Stripe's unit for every timestamp. */
export const unixNow = () => Math.floor(Date.now() / 1000);
