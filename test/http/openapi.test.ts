import { Validator } from "@seriousme/openapi-schema-validator";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProductSchema } from "../../src/core/catalog/schemas.ts";
import * as z from "../../src/core/zod.ts";
import { errorBody, type ResponseName, responses } from "../../src/http/openapi/responses.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

/** The API's prefixes: every route under them must be in the reference. */
const API = /^\/api\/(admin|v1|me)(\/|$)/;

/**
 * Routes of the licence work (issue 15) still waiting for their `apiDoc` line. The test fails
 * when one of them gets described and stays listed here, as when any other route has none.
 */
const NOT_YET_DESCRIBED: string[] = [];

type Operation = {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
  responses: Record<string, { $ref?: string }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
};

const key = (method: string, path: string) =>
  `${method.toUpperCase()} ${path.replace(/:(\w+)/g, "{$1}")}`;

/**
 * What the app serves and the document lists, as "METHOD /path/{param}". Middleware (registered
 * for every method, on a wildcard path) is not a route; an apiDoc and its handler are one.
 */
function compare(app: Pick<Hono, "routes">, doc: Document) {
  const served = new Set(
    app.routes
      .filter((r) => !(r.method === "ALL" && r.path.endsWith("*")))
      .map((r) => key(r.method, r.path)),
  );
  const listed = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => key(m, path))),
  );
  return {
    undescribed: [...served]
      .filter((r) => API.test(r.split(" ")[1] ?? "") && !listed.has(r))
      .sort(),
    notServed: [...listed].filter((r) => !served.has(r)).sort(),
  };
}

describe("GET /api/openapi.json", () => {
  let h: Harness;
  let doc: Document;
  let text: string;
  beforeAll(async () => {
    h = await makeHarness("sqlite");
    const res = await h.request("/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    text = await res.text();
    doc = JSON.parse(text) as Document;
  });
  afterAll(() => h.close());

  it("is a valid OpenAPI 3.1 document, the same at every request, without credentials", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(await (await h.request("/api/openapi.json")).text()).toBe(text);
  });

  it("lists every /api/admin, /api/v1 and /api/me route the app serves, and nothing it does not", () => {
    const { undescribed, notServed } = compare(h.runtime.app, doc);
    expect(notServed).toEqual([]);
    expect(undescribed).toEqual(NOT_YET_DESCRIBED.filter((r) => API.test(r.split(" ")[1] ?? "")));
  });

  it("catches a route added without a description, and a description of a route not served", () => {
    const app = { routes: [...h.runtime.app.routes] } as Pick<Hono, "routes">;
    const handler = () => new Response(null);
    app.routes.push({ method: "POST", path: "/api/admin/things/:id/fold", basePath: "/", handler });
    const listed: Document = {
      ...doc,
      paths: { ...doc.paths, "/api/v1/nowhere": { get: { responses: {} } } },
    };
    const { undescribed, notServed } = compare(app, listed);
    expect(undescribed).toContain("POST /api/admin/things/{id}/fold");
    expect(notServed).toEqual(["GET /api/v1/nowhere"]);
  });

  it("asks the admin token (or an admin's session) for the admin API, nothing for v1", () => {
    expect(doc.components.securitySchemes.adminToken).toEqual(
      expect.objectContaining({ type: "http", scheme: "bearer" }),
    );
    for (const [path, ops] of Object.entries(doc.paths))
      for (const op of Object.values(ops)) {
        if (path.startsWith("/api/admin/"))
          expect(op.security).toEqual([{ adminToken: [] }, { session: [] }]);
        if (path.startsWith("/api/v1/")) expect(op.security).toEqual([]);
        expect(op.responses.default).toEqual({ $ref: "#/components/responses/error" });
      }
  });

  it("takes request bodies from the schemas the core's verbs parse with", () => {
    const body = doc.paths["/api/admin/products"]?.post?.requestBody?.content["application/json"];
    const { $schema: _, ...expected } = z.toJSONSchema(createProductSchema, { io: "input" });
    expect(body?.schema).toEqual(expected);
  });

  describe("answers as the document says", () => {
    /** The documented answer of this call with this status: its schema, by name. */
    function documented(method: string, path: string, status: number) {
      const op = doc.paths[path]?.[method.toLowerCase()];
      if (!op) throw new Error(`${method} ${path} is not in the document`);
      const ref = op.responses[String(status)]?.$ref;
      if (!ref) throw new Error(`${method} ${path} does not list ${status}`);
      const name = ref.replace("#/components/responses/", "");
      return status < 400 ? responses[name as ResponseName] : errorBody;
    }

    /** Calls, then holds the answer to the documented schema of its route and status. */
    async function call<T = Record<string, unknown>>(
      method: string,
      path: string,
      url: string,
      init: RequestInit & { json?: unknown; as?: "admin" | "anonymous" | string } = {},
    ) {
      const { as = "admin", ...rest } = init;
      const res =
        as === "admin"
          ? await h.admin(url, { ...rest, method })
          : await h.request(url, {
              ...rest,
              method,
              ...(as === "anonymous" ? {} : { cookie: as }),
            });
      const body: unknown = await res.json();
      const schema = documented(method, path, res.status);
      const parsed = z.safeParse(schema, body);
      if (!parsed.success)
        throw new Error(`${method} ${url} ${res.status}: ${JSON.stringify(body)}\n${parsed.error}`);
      return body as T;
    }

    it("for the catalogue, files, access and links", async () => {
      const created = await call("POST", "/api/admin/products", "/api/admin/products", {
        json: { slug: "openapi-kit", name: "Kit", price: { amount: 900, currency: "usd" } },
      });
      expect(created.slug).toBe("openapi-kit");
      await call("GET", "/api/admin/products", "/api/admin/products");
      await call("PATCH", "/api/admin/products/{slug}", "/api/admin/products/openapi-kit", {
        json: { name: "Kit 2" },
      });
      const asset = await call<{ id: string }>(
        "POST",
        "/api/admin/products/{slug}/assets",
        "/api/admin/products/openapi-kit/assets?filename=kit.zip",
        { body: "bytes" },
      );
      await call("GET", "/api/admin/products/{slug}", "/api/admin/products/openapi-kit");
      await call(
        "GET",
        "/api/admin/products/{slug}/assets",
        "/api/admin/products/openapi-kit/assets",
      );
      await call(
        "POST",
        "/api/admin/products/{slug}/uploads",
        "/api/admin/products/openapi-kit/uploads",
        {
          json: { filename: "big.zip", size: 10 },
        },
      );
      await call("PATCH", "/api/admin/assets/{id}", `/api/admin/assets/${asset.id}`, {
        json: { active: true },
      });
      const granted = await call<{ id: string }>("POST", "/api/admin/grants", "/api/admin/grants", {
        json: { email: "buyer@example.com", product: "openapi-kit" },
      });
      await call(
        "GET",
        "/api/admin/entitlements",
        "/api/admin/entitlements?email=buyer@example.com",
      );
      const link = await call<{ url: string }>("POST", "/api/admin/tokens", "/api/admin/tokens", {
        json: { email: "buyer@example.com", product: "openapi-kit", expiresIn: "1h" },
      });
      const download = await h.request(`${new URL(link.url).pathname}/${asset.id}`);
      expect(download.status).toBeLessThan(400);
      const { downloads } = await call<{ downloads: unknown[] }>(
        "GET",
        "/api/admin/downloads",
        "/api/admin/downloads",
      );
      expect(downloads).toHaveLength(1);
      await call(
        "POST",
        "/api/admin/entitlements/{id}/revoke",
        `/api/admin/entitlements/${granted.id}/revoke`,
        { json: { reason: "test" } },
      );
      const why = await call<{ history: unknown[] }>(
        "GET",
        "/api/admin/access-history",
        "/api/admin/access-history?email=buyer@example.com&product=openapi-kit",
      );
      expect(why.history).toHaveLength(2);
      await call("GET", "/api/admin/access-history", "/api/admin/access-history?email=x");
    });

    it("for orders, logs and the outbox", async () => {
      await h.grant("reader@example.com", "openapi-kit");
      const buyer = await h.signIn("reader@example.com");
      await call("GET", "/api/admin/orders", "/api/admin/orders?limit=5");
      await call("GET", "/api/admin/orders/{id}/downloads", "/api/admin/orders/ord_none/downloads");
      await call(
        "POST",
        "/api/admin/orders/{id}/reset-downloads",
        "/api/admin/orders/ord_none/reset-downloads",
      );
      await call("GET", "/api/admin/webhook-events", "/api/admin/webhook-events");
      await call(
        "POST",
        "/api/admin/webhook-events/{id}/replay",
        "/api/admin/webhook-events/evt_none/replay",
      );
      await call("POST", "/api/admin/orders/{id}/reopen", "/api/admin/orders/ord_none/reopen", {
        json: { for: "7d" },
      });
      const { messages } = await call<{ messages: unknown[] }>(
        "GET",
        "/api/admin/outbox",
        "/api/admin/outbox?to=reader@example.com",
      );
      expect(messages).toHaveLength(1);
      const me = await call<{ user: { email: string } }>("GET", "/api/me", "/api/me", {
        as: buyer,
      });
      expect(me.user.email).toBe("reader@example.com");
      await call("GET", "/api/me", "/api/me", { as: "anonymous" });
      const library = await call<{ items: unknown[] }>("GET", "/api/library", "/api/library", {
        as: buyer,
      });
      expect(library.items.length).toBeGreaterThan(0);
    });

    // Runs once the licence routes carry their apiDoc (NOT_YET_DESCRIBED empty).
    it.skipIf(NOT_YET_DESCRIBED.length > 0)(
      "for licences, the seller's and the app's",
      async () => {
        const buyer = "licensee@example.com";
        await h.createProduct({
          slug: "openapi-app",
          license: { enabled: true, activationLimit: 1 },
        });
        await h.grant(buyer, "openapi-app");
        const list = await call<{ licenses: { id: string; key: string }[] }>(
          "GET",
          "/api/admin/licenses",
          `/api/admin/licenses?email=${buyer}`,
        );
        const [{ id, key }] = list.licenses as [{ id: string; key: string }];
        const v1 = (verb: string, json: unknown, accept = "application/json") =>
          call("POST", `/api/v1/licenses/${verb}`, `/api/v1/licenses/${verb}`, {
            as: "anonymous",
            headers: { "content-type": "application/json", accept },
            body: JSON.stringify(json),
          });
        await v1("activate", { key, fingerprint: "machine-1", label: "Laptop" });
        await v1("activate", { key, fingerprint: "machine-2" }); // over the limit: 409
        await v1("validate", { key, fingerprint: "machine-1" });
        await v1("validate", { key: "NOT-A-KEY" }); // 404
        await v1("offline", { key, fingerprint: "machine-1" });
        await v1("deactivate", { key, fingerprint: "machine-1" });
        await call("GET", "/.well-known/jwks.json", "/.well-known/jwks.json", { as: "anonymous" });
        const path = "/api/admin/licenses/{id}";
        await call("GET", path, `/api/admin/licenses/${id}`);
        await call("PATCH", path, `/api/admin/licenses/${id}`, { json: { activationLimit: 3 } });
        await call("POST", `${path}/reset`, `/api/admin/licenses/${id}/reset`, { json: {} });
        await call("POST", `${path}/revoke`, `/api/admin/licenses/${id}/revoke`, { json: {} });
        const state = "/api/admin/customers/{email}/state";
        await call("GET", state, `/api/admin/customers/${buyer}/state`);
        const session = await h.signIn(buyer);
        await call("GET", "/api/me/state", "/api/me/state", { as: session });
      },
    );

    it("for refusals: bad input, no credentials, a buyer's session", async () => {
      const refused = await call<{ code: string; fields: unknown[] }>(
        "POST",
        "/api/admin/products",
        "/api/admin/products",
        { json: { slug: "Not A Slug" } },
      );
      expect(refused.code).toBe("invalid_input");
      expect(refused.fields.length).toBeGreaterThan(0);
      const codes = [
        await call("GET", "/api/admin/orders", "/api/admin/orders?limit=0"),
        await call("GET", "/api/admin/products", "/api/admin/products", { as: "anonymous" }),
        await call("GET", "/api/admin/products", "/api/admin/products", {
          as: await h.signIn("nosy@example.com"),
        }),
        await call("GET", "/api/admin/products/{slug}", "/api/admin/products/nothing-here"),
      ].map((body) => body.code);
      expect(codes).toEqual(["invalid_input", "unauthenticated", "forbidden", "not_found"]);
    });
  });
});
