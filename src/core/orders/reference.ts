/**
 * What buyers and sellers call an order: "7KQ4M-2ZPXA" rather than its id ("ord_" and 20
 * characters where case matters). It is the first 48 random bits of the id in Crockford's base32:
 * one case, no I, L, O or U, so it can be read out on the phone and typed back. The seller's
 * order list finds an order by it; 48 bits keep two orders of one shop from sharing one (at a
 * million orders the odds are about one in 500).
 */

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** The id's characters that carry the reference's 48 bits (6 bits each). */
const ID_CHARS = 8;
const PREFIX = "ord_";

/** The order's reference; an id of another shape (an import's) is shown as it is. */
export function orderReference(orderId: string): string {
  const body = orderId.slice(PREFIX.length, PREFIX.length + ID_CHARS);
  if (!orderId.startsWith(PREFIX) || body.length < ID_CHARS) return orderId;
  let bits = 0n;
  for (const char of body) {
    const value = BASE64URL.indexOf(char);
    if (value < 0) return orderId;
    bits = (bits << 6n) | BigInt(value);
  }
  bits <<= 2n; // 48 bits in ten 5-bit digits
  let text = "";
  for (let i = 9; i >= 0; i--) text += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return `${text.slice(0, 5)}-${text.slice(5)}`;
}

/**
 * The start of the id of the order this reference names ("ord_" and 8 characters), or null
 * when the text is not a reference. Read as people type it: any case, with or without the
 * dash, O for 0 and I or L for 1.
 */
export function orderIdStart(reference: string): string | null {
  const digits = reference
    .trim()
    .toUpperCase()
    .replace(/[\s-]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (!/^[0-9A-HJKMNP-TV-Z]{10}$/.test(digits)) return null;
  let bits = 0n;
  for (const char of digits) bits = (bits << 5n) | BigInt(ALPHABET.indexOf(char));
  if (bits & 3n) return null; // the two padding bits are always zero
  bits >>= 2n;
  let body = "";
  for (let i = ID_CHARS - 1; i >= 0; i--) body += BASE64URL[Number((bits >> BigInt(i * 6)) & 63n)];
  return PREFIX + body;
}
