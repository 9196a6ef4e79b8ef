import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { expect } from "vitest";
import type { Harness } from "../support/harness.ts";
import { payOnHostedPage } from "../support/stripe.ts";

export const sha256 = (bytes: Uint8Array | string) =>
  createHash("sha256").update(bytes).digest("hex");

export interface ZipEntry {
  name: string;
  bytes: Uint8Array;
  /** Bit 11 of the general purpose flags: the name is UTF-8. */
  utf8: boolean;
}

/**
 * Reads a zip the way an unzip tool does, from its central directory (its local headers carry
 * no sizes: they are streamed), and checks each entry's CRC-32 and stored size on the way.
 * Stored entries only, as Tollgate writes them; Zip64 is not needed for test-sized archives.
 */
export function readZip(zip: Uint8Array): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error("no end of central directory record");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error(`bad central entry ${i}`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    expect(method, `${name} is stored`).toBe(0);
    if (view.getUint32(local, true) !== 0x04034b50) throw new Error(`bad local header of ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const bytes = zip.subarray(start, start + size);
    expect(crc32(bytes) >>> 0, `CRC-32 of ${name}`).toBe(crc);
    entries.push({ name, bytes, utf8: (flags & 0x800) !== 0 });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

export const html = { accept: "text/html" };

/**
 * Buys a product through the local Stripe's hosted page (signed in when a cookie is given, else
 * as a guest) and opens the success page, which confirms the payment server-side.
 */
export async function buy(
  h: Harness,
  slug: string,
  email: string,
  cookie?: string,
): Promise<{ orderId: string; sessionId: string; successUrl: string; successPage: string }> {
  const res = await h.request(`/checkout/${slug}`, {
    method: "POST",
    headers: { accept: "application/json", origin: "http://shop.test" },
    ...(cookie ? { cookie } : {}),
  });
  expect(res.status).toBe(201);
  const started = (await res.json()) as { url: string; sessionId: string; orderId: string };
  const paid = await payOnHostedPage(started.url, { email });
  expect(paid.status).toBe(303);
  const successUrl = paid.headers.get("location") as string;
  const success = await h.request(successUrl, { headers: html, ...(cookie ? { cookie } : {}) });
  const successPage = await success.text();
  expect(successPage).toContain("Payment received. Your files are ready.");
  return { orderId: started.orderId, sessionId: started.sessionId, successUrl, successPage };
}
