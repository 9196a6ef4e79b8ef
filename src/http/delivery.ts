import type { Context } from "hono";
import { contentDisposition } from "../core/contentDisposition.ts";
import { type Delivery, etagOf } from "../core/downloads/deliver.ts";
import type { ClientInfo } from "../core/downloads/deliverAndRecord.ts";
import type { ObjectBody } from "../core/ports.ts";
import type { HonoEnv } from "./env.ts";
import { wholeResponse } from "./middleware/headers.ts";

const NO_STORE = { "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer" };

/** A prepared delivery as an HTTP response: 302 to a signed URL, or the bytes with Range support. */
export function deliveryResponse(c: Context<HonoEnv>, delivery: Delivery): Response {
  if (delivery.kind === "redirect")
    return wholeResponse(c, 302, { Location: delivery.url, ...NO_STORE });
  if (delivery.kind === "unsatisfiable") return unsatisfiableResponse(delivery.asset.size);
  const { asset } = delivery;
  const meta = { contentType: asset.content_type, filename: asset.filename, etag: etagOf(asset) };
  if (delivery.kind === "head") return headResponse(asset.size, meta);
  return bytesResponse(delivery.object, meta);
}

/** What a GET of the whole object would say, without the body (nothing is opened). */
export function headResponse(
  size: number,
  meta: { contentType: string; filename: string; etag?: string },
): Response {
  return new Response(null, {
    status: 200,
    headers: { ...fileHeaders(meta), "Content-Length": String(size) },
  });
}

/** 200 with the whole object, or 206 with the range it holds; always with Content-Length. */
export function bytesResponse(
  object: ObjectBody,
  meta: { contentType: string; filename: string; etag?: string },
): Response {
  const headers = fileHeaders(meta);
  if (!object.range) {
    headers["Content-Length"] = String(object.size);
    return new Response(object.body, { status: 200, headers });
  }
  headers["Content-Range"] = `bytes ${object.range.start}-${object.range.end}/${object.size}`;
  headers["Content-Length"] = String(object.range.end - object.range.start + 1);
  return new Response(object.body, { status: 206, headers });
}

function fileHeaders(meta: {
  contentType: string;
  filename: string;
  etag?: string;
}): Record<string, string> {
  return {
    ...NO_STORE,
    "Content-Type": meta.contentType,
    "Content-Disposition": contentDisposition(meta.filename),
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
    ...(meta.etag ? { ETag: meta.etag } : {}),
  };
}

export function unsatisfiableResponse(size: number): Response {
  return new Response(null, {
    status: 416,
    headers: { ...NO_STORE, "Content-Range": `bytes */${size}` },
  });
}

export function deliveryRequest(c: Context) {
  return {
    range: c.req.header("range") ?? null,
    ifRange: c.req.header("if-range") ?? null,
    // Hono answers HEAD with the GET route; a HEAD must not open, count or log anything.
    headOnly: c.req.method === "HEAD",
  };
}

export function clientInfo(c: Context<HonoEnv>): ClientInfo {
  return { ip: c.get("deps").clientIp(c), userAgent: c.req.header("user-agent") ?? null };
}
