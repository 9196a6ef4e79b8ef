import type { Context } from "hono";
import { invalidInput, tooLarge } from "../core/errors.ts";
import type { HonoEnv } from "./env.ts";

export const JSON_LIMIT = 64 * 1024;

/** The request body as JSON, or as a form: a clear 400 for malformed input, 413 past 64 KB. */
export async function readBody(c: Context<HonoEnv>): Promise<Record<string, unknown>> {
  const type = c.req.header("content-type") ?? "";
  const text = await readText(c, JSON_LIMIT);
  if (/^application\/x-www-form-urlencoded/i.test(type)) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    throw invalidInput("The request body is not valid JSON.");
  }
  throw invalidInput("The request body must be a JSON object.");
}

/** Reads at most `limit` bytes as UTF-8; stops reading (and answers 413) as soon as more arrive. */
export async function readText(c: Context<HonoEnv>, limit: number): Promise<string> {
  const bytes = await readBytes(c, limit);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw invalidInput("The request body is not valid UTF-8.");
  }
}

async function readBytes(c: Context<HonoEnv>, limit: number): Promise<Uint8Array> {
  const tooBig = () => tooLarge(`The request body is larger than ${Math.round(limit / 1024)} KB.`);
  if (Number(c.req.header("content-length") ?? "0") > limit) throw tooBig();
  const raw = c.get("deps").readRawBody?.(c, limit);
  if (raw) {
    const bytes = await raw;
    if (!bytes) throw tooBig();
    return bytes;
  }
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export function isFormPost(c: Context<HonoEnv>): boolean {
  return /^application\/x-www-form-urlencoded/i.test(c.req.header("content-type") ?? "");
}
