/**
 * A route's entry in the API reference (`GET /api/openapi.json`), written next to the route:
 *
 *   .post("/api/admin/grants", apiDoc({ summary: "Give a product to an email", tag: "Access",
 *     auth: "admin", body: sellerGrantSchema, status: 201, response: "Entitlement" }), handler)
 *
 * `apiDoc` only attaches the description to a middleware that passes the request on; nothing
 * here converts a schema. openapi/document.ts turns the descriptions into the document with
 * hono-openapi (on Node, at the first request; the Worker's build does it once, decision 0014),
 * so neither that library nor zod's JSON Schema code is in the Worker. test/http/openapi.test.ts
 * fails when an /api/admin, /api/v1 or /api/me route has no description, or the document lists
 * a route the app does not serve.
 */
import type { MiddlewareHandler } from "hono";
import type { ErrorCode } from "../../core/errors.ts";
import type * as z from "../../core/zod.ts";
import type { ResponseName } from "./responses.ts";

/** Where a described middleware keeps its description. */
export const API_DOC: unique symbol = Symbol("tollgate.apiDoc");

/** The reference's groups, in the order it lists them (their descriptions: openapi/document.ts). */
export const API_TAGS = [
  "Products",
  "Files",
  "Access",
  "Download links",
  "Customers",
  "Licences",
  "Licence API",
  "Orders and logs",
  "Buyer",
  "Shop",
  "Webhooks",
] as const;
export type ApiTag = (typeof API_TAGS)[number];

export interface ApiDoc {
  /** What the call does, in a few words. */
  summary: string;
  /** More, when the summary leaves a caller guessing (Markdown). */
  description?: string;
  tag: ApiTag;
  /**
   * Who may call it: "admin" is ADMIN_TOKEN as a bearer token, or the session of an email in
   * ADMIN_EMAILS; "buyer" a signed-in buyer's session; "public" anyone, without credentials.
   */
  auth: "admin" | "buyer" | "public";
  /** What each path parameter (`:name`) is. */
  params?: Record<string, string>;
  /** The query parameters, as a zod object of the schemas the verb reads them with. */
  query?: z.ZodMiniObject;
  /** The JSON body: the very schema the verb parses it with (its fields taken from the path omitted). */
  body?: z.core.$ZodType;
  /** A body that is not JSON (a file's bytes): what it holds. */
  rawBody?: string;
  /** The status of a successful answer: 200 unless said. */
  status?: 200 | 201;
  /** The successful answer's JSON, by name (openapi/responses.ts). */
  response?: ResponseName;
  /** A successful answer that is not JSON: its media type and what it holds. */
  textResponse?: { mediaType: string; description: string };
  /**
   * The errors this call may answer with, by code, beyond those every call of its kind may
   * (invalid_input when it reads a body; unauthenticated and forbidden for "admin",
   * unauthenticated for "buyer"; 500 and 503 for all).
   */
  errors?: ErrorCode[];
}

/** A middleware that passes every request on and carries `doc` for the API reference. */
export function apiDoc(doc: ApiDoc): MiddlewareHandler & { [API_DOC]: ApiDoc } {
  const passOn: MiddlewareHandler = (_c, next) => next();
  return Object.assign(passOn, { [API_DOC]: doc });
}

/** The description a route's handler carries, if it is an `apiDoc` middleware. */
export const docOf = (handler: unknown): ApiDoc | undefined =>
  (handler as { [API_DOC]?: ApiDoc } | null)?.[API_DOC];
