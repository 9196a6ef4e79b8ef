/**
 * The API reference, `GET /api/openapi.json`: an OpenAPI 3.1 document made by hono-openapi from
 * the descriptions routes carry (`apiDoc`, openapi/describe.ts), with request bodies and queries
 * converted from the very zod schemas the core's verbs parse them with.
 *
 * Only Node loads this module (routes/openapi.ts imports it at the first request). The Worker's
 * build runs it once and puts the finished text in its place, so the Worker carries neither
 * hono-openapi nor zod's JSON Schema code, about 31 KB gzip (decision 0014).
 */
import { Hono } from "hono";
import {
  type DescribeRouteOptions,
  describeRoute,
  type GenerateSpecOptions,
  generateSpecs,
  resolver,
  validator,
} from "hono-openapi";
import { SESSION_COOKIE } from "../../adapters/auth-builtin/index.ts";
import type { ErrorCode } from "../../core/errors.ts";
import type * as z from "../../core/zod.ts";
import { STATUS } from "../errors.ts";
import { admin } from "../routes/admin.ts";
import { adminAccessHistory } from "../routes/adminAccessHistory.ts";
import { adminDownloadLimits } from "../routes/adminDownloadLimits.ts";
import { adminLicenses } from "../routes/adminLicenses.ts";
import { adminOrderReopen } from "../routes/adminOrderReopen.ts";
import { adminReleases } from "../routes/adminReleases.ts";
import { adminShop } from "../routes/adminShop.ts";
import { adminWebhookEndpoints } from "../routes/adminWebhookEndpoints.ts";
import { library } from "../routes/library.tsx";
import { licenses } from "../routes/licenses.ts";
import { API_TAGS, type ApiDoc, type ApiTag, docOf } from "./describe.ts";
import { errorBody, type ResponseName, responses } from "./responses.ts";

/**
 * The route modules that hold API routes: a new module of them is added here once; its routes
 * are described where they are written. The test compares the document with the whole app.
 */
const API_ROUTES = [
  admin,
  adminAccessHistory,
  adminDownloadLimits,
  adminLicenses,
  adminOrderReopen,
  adminReleases,
  adminShop,
  library,
  licenses,
  adminWebhookEndpoints,
];

const TAG_TEXT: Record<ApiTag, string> = {
  Products: "The catalogue: what is for sale, at what price, with which licence terms.",
  Files: "The files a product delivers: uploaded through the API, or straight to storage.",
  Access: "Who may download what: entitlements from purchases, grants and free claims.",
  "Download links": "Links that open a product's files without signing in.",
  Customers: "What one customer owns right now.",
  Licences: "Licence keys issued with purchases, their activations and limits.",
  "Licence API":
    "For the seller's app: activate, validate and deactivate a key, offline licence files.",
  "Orders and logs": "Orders, the download log, Stripe's events and the outbox.",
  Buyer: "The signed-in buyer.",
  Webhooks:
    "Outgoing webhooks: endpoints that hear of orders, access, releases and licences, signed as Standard Webhooks says, with a delivery log.",
  Shop: "The shop's name, support address, time zone and logo, shown on every page and in every mail.",
};

const AUTH: Record<ApiDoc["auth"], DescribeRouteOptions["security"]> = {
  admin: [{ adminToken: [] }, { session: [] }],
  buyer: [{ session: [] }],
  public: [],
};

/** Errors any call of a kind may give, besides those it names. */
const AUTH_ERRORS: Record<ApiDoc["auth"], ErrorCode[]> = {
  admin: ["unauthenticated", "forbidden"],
  buyer: ["unauthenticated"],
  public: [],
};

const ERROR_TEXT: Record<ErrorCode, string> = {
  invalid_input: "The input was refused; `fields` names each field and why.",
  unauthenticated: "No credentials, or credentials that are not valid.",
  forbidden: "The credentials are valid but do not allow this.",
  not_found: "There is nothing by that name or id.",
  conflict: "The request conflicts with the current state.",
  gone: "It existed, and is no longer available.",
  too_large: "The body is larger than allowed.",
  range_not_satisfiable: "The range asked for is outside the file.",
  unprocessable: "Well-formed, but what arrived is not what was announced (a checksum mismatch).",
  rate_limited: "Too many requests: try again after `Retry-After` seconds.",
  unavailable: "The shop cannot reach its database or storage: try again after `Retry-After`.",
};

/** The document as it is served: made once per process. */
export async function apiDocumentText(): Promise<string> {
  return JSON.stringify(await apiDocument());
}

export async function apiDocument() {
  // The described routes again, on an app of their own whose handlers only describe: the
  // routes' own middleware is never run, and a validator here only says what the verb checks.
  const described = new Hono();
  const used = new Set<ApiTag>();
  for (const routes of API_ROUTES) {
    for (const route of routes.routes) {
      const doc = docOf(route.handler);
      if (!doc) continue;
      used.add(doc.tag);
      const validators = [
        ...(doc.query ? [validator("query", doc.query)] : []),
        ...(doc.body ? [validator("json", doc.body)] : []),
      ];
      described.on(route.method, route.path, describeRoute(operation(doc)), ...validators, (c) =>
        c.body(null, 204),
      );
    }
  }
  return generateSpecs(described, {
    documentation: documentation([...used]),
    defaultValidationErrorResponse: false,
    // /.well-known/jwks.json is a route, not a file.
    excludeStaticFile: false,
  });
}

function operation(doc: ApiDoc): DescribeRouteOptions {
  const errors = new Set<ErrorCode>([
    ...(doc.body || doc.rawBody ? (["invalid_input"] as const) : []),
    ...AUTH_ERRORS[doc.auth],
    ...(doc.errors ?? []),
  ]);
  const success = doc.response
    ? { $ref: `#/components/responses/${doc.response}` }
    : doc.textResponse
      ? {
          description: doc.textResponse.description,
          content: { [doc.textResponse.mediaType]: { schema: { type: "string" } } },
        }
      : { description: "Done." };
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: AUTH[doc.auth],
    parameters: Object.entries(doc.params ?? {}).map(([name, description]) => ({
      in: "path",
      name,
      required: true,
      description,
      schema: { type: "string" },
    })),
    ...(doc.rawBody
      ? {
          requestBody: {
            required: true,
            description: doc.rawBody,
            content: { "application/octet-stream": {} },
          },
        }
      : {}),
    responses: {
      [doc.status ?? 200]: success,
      ...Object.fromEntries(
        [...errors]
          .sort((a, b) => STATUS[a] - STATUS[b])
          .map((code) => [STATUS[code], { $ref: `#/components/responses/${code}` }]),
      ),
      default: { $ref: "#/components/responses/error" },
    },
  };
}

function documentation(tags: ApiTag[]): GenerateSpecOptions["documentation"] {
  const json = (schema: z.core.$ZodType) => ({
    "application/json": {
      // Answers are what the app writes: the schemas' output, not what they would accept.
      schema: resolver(schema as z.ZodMiniType, { options: { io: "output" } }),
    },
  });
  const answers = Object.fromEntries(
    (Object.keys(responses) as ResponseName[]).map((name) => [
      name,
      { description: "Done.", content: json(responses[name]) },
    ]),
  );
  const retryAfter = {
    "Retry-After": { description: "Seconds to wait.", schema: { type: "integer" as const } },
  };
  const errors = Object.fromEntries(
    (Object.keys(STATUS) as ErrorCode[]).map((code) => [
      code,
      {
        description: `\`${code}\` (or a more precise code the call names): ${ERROR_TEXT[code]}`,
        ...(code === "rate_limited" || code === "unavailable" ? { headers: retryAfter } : {}),
        content: json(errorBody),
      },
    ]),
  );
  return {
    info: {
      title: "Tollgate API",
      // The API's version: what a caller relies on. A change that breaks callers raises it.
      version: "1",
      description:
        "The shop's JSON API: the seller's admin API (`/api/admin`), the licence API for the " +
        "seller's apps (`/api/v1`) and the signed-in buyer's (`/api/me`). Every error answers " +
        "`{ code, message, requestId }` with the status of its code.",
    },
    tags: API_TAGS.filter((tag) => tags.includes(tag)).map((name) => ({
      name,
      description: TAG_TEXT[name],
    })),
    components: {
      securitySchemes: {
        adminToken: {
          type: "http",
          scheme: "bearer",
          description: "The shop's ADMIN_TOKEN setting, as `Authorization: Bearer ...`.",
        },
        session: {
          type: "apiKey",
          in: "cookie",
          name: SESSION_COOKIE,
          description:
            "The session cookie signing in sets (for the admin API: of an email in ADMIN_EMAILS). " +
            "With AUTH=supabase, the Supabase access token as `Authorization: Bearer ...` instead.",
        },
      },
      responses: {
        ...answers,
        ...errors,
        error: {
          description: "Anything else: `internal` (500), or `unavailable` (503, with Retry-After).",
          content: json(errorBody),
        },
      },
    },
  };
}
