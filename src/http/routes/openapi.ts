import { Hono } from "hono";
import type { HonoEnv } from "../env.ts";

export const API_DOCUMENT_PATH = "/api/openapi.json";

/**
 * The reference is public, the same for everyone, and changes only with a new version of the
 * shop: caches may keep it an hour, and any site may read it (API explorers, code generators).
 * The Worker's static copy is served with these too (scripts/build-worker.ts writes _headers).
 */
export const API_DOCUMENT_HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "Cache-Control": "public, max-age=3600",
  "Access-Control-Allow-Origin": "*",
  "X-Content-Type-Options": "nosniff",
};

/** The document's text, made at the first request and kept (a failure is tried again). */
let documentText: Promise<string> | null = null;

/**
 * The API reference (OpenAPI 3.1), made by openapi/document.ts. On Workers the build writes it
 * as a static asset, which Cloudflare serves before the Worker runs (decision 0014).
 */
export const openapi = new Hono<HonoEnv>().get(API_DOCUMENT_PATH, async (c) => {
  documentText ??= import("../openapi/document.ts").then((m) => m.apiDocumentText());
  const text = await documentText.catch((error: unknown) => {
    documentText = null;
    throw error;
  });
  return c.body(text, 200, API_DOCUMENT_HEADERS);
});
