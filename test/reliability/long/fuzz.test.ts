import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../../support/harness.ts";
import { LONG } from "../../support/reliability.ts";

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const TABLES = [
  "users",
  "sessions",
  "login_tokens",
  "rate_limits",
  "products",
  "assets",
  "orders",
  "entitlements",
  "delivery_tokens",
  "downloads",
  "webhook_events",
  "outbox",
] as const;

/**
 * Random requests at every route of the app (buyer, webhook, auth, seller pages and API), as
 * a stranger sends them: no sign-in, no admin token, no real download link. Random methods,
 * paths made of real and broken pieces, headers and bodies. None may get a 5xx or take the app
 * down, and none may change a row: every table has as many rows after as before.
 */
describe.skipIf(!LONG)(`HTTP fuzz: ${REQUESTS} random requests`, () => {
  describe.each(dialects)("on %s", (dialect) => {
    let h: Harness;
    let known: { slugs: string[]; assets: string[]; unpaidSession: string; token: string };
    beforeAll(async () => {
      h = await makeHarness(dialect, {}, { stripe: "manual" });
      const paid = await h.ownedProduct("owner@example.com", "owned bytes");
      const free = await h.createProduct({ kind: "free", price: { amount: 0, currency: "usd" } });
      const other = await h.createProduct();
      const otherAsset = await h.upload(other.slug, "other.pdf", "other bytes");
      const started = await h.request(`/checkout/${other.slug}`, {
        method: "POST",
        headers: { accept: "application/json" },
      });
      const { sessionId } = (await started.json()) as { sessionId: string };
      const { token } = await h.token({ email: "owner@example.com", product: paid.product.slug });
      known = {
        slugs: [paid.product.slug, free.slug, other.slug],
        assets: [paid.asset.id, otherAsset.id],
        unpaidSession: sessionId,
        token,
      };
    }, 60_000);
    afterAll(() => h.close());

    async function rowCounts(): Promise<Record<string, number>> {
      const counts: Record<string, number> = {};
      for (const table of TABLES) {
        const { rows } = await sql<{
          n: number | string;
        }>`select count(*) as n from ${sql.table(table)}`.execute(h.deps.db);
        counts[table] = Number(rows[0]?.n);
      }
      return counts;
    }

    it("no 5xx, no crash, no write", async () => {
      const before = await rowCounts();
      const requests = requestArbitrary(known);
      const statuses: Record<number, number> = {};
      const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(requests, async (r) => {
          // Absolute, so a path like //x stays a path and is not read as a host.
          const res = await h.request(`${PUBLIC_URL}${r.path}`, {
            method: r.method,
            headers: r.headers,
            body: r.body,
          });
          const text = r.method === "HEAD" ? "" : await res.text();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          expect(res.status, `${r.method} ${r.path}`).toBeLessThan(500);
          expect(text).not.toMatch(/\bat .+\.(ts|js):\d+:\d+|node_modules/);
        }),
        { numRuns: REQUESTS, seed, endOnFailure: true },
      );
      const ms = Date.now() - started;

      // Rate-limit counters are the one thing a stranger's request may write: counting the
      // attempt is the defence (checkouts, payment checks and sign-ins count before anything else).
      const { rate_limits: _countersAfter, ...after } = await rowCounts();
      const { rate_limits: _countersBefore, ...expected } = before;
      expect(after).toEqual(expected);
      // Still up and still serving the one buyer who owns something.
      expect((await h.request("/readyz")).status).toBe(200);
      const file = await h.request(`/d/${known.token}/${known.assets[0]}`);
      expect(await file.text()).toBe("owned bytes");
      console.log(
        `fuzz on ${dialect} (seed ${seed}): ${REQUESTS} requests in ${ms} ms; statuses ${JSON.stringify(statuses)}`,
      );
    }, 600_000);
  });
});

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

/** Text that is never a valid email address (a valid one would rightly get a sign-in mail). */
const junkText = fc.oneof(
  fc.string({ maxLength: 24 }).map((s) => s.replaceAll("@", "")),
  fc.string({ unit: "grapheme", maxLength: 8 }).map((s) => s.replaceAll("@", "")),
  fc.constantFrom(
    "",
    " ",
    ".",
    "..",
    "%",
    "%zz",
    "%00",
    "%2e%2e%2f",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' or 1=1 --",
    "😀",
    "null",
    "[]",
    "{}",
    "-1",
    "0",
    "99999999999999999999",
    "cs_test_notarealsession0000000000",
    "tgd_",
    `tgd_${"A".repeat(43)}`,
    "tgl_nope",
    "x".repeat(600),
    "a@",
    "@b.co",
    "a@b",
    "a@@b.co",
    "<a@b.co>",
    "a@b..co",
    "a b@c.co",
  ),
);

function requestArbitrary(known: {
  slugs: string[];
  assets: string[];
  unpaidSession: string;
}): fc.Arbitrary<FuzzRequest> {
  const seg = (extra: string[] = []) =>
    fc.oneof(
      { weight: 3, arbitrary: junkText.map(encodeURIComponent) },
      { weight: 1, arbitrary: junkText.filter((s) => !/[/?#\s]/.test(s)) },
      ...(extra.length ? [{ weight: 3, arbitrary: fc.constantFrom(...extra) }] : []),
    );
  const slug = seg(known.slugs);
  // Buying is a write a stranger may rightly make: the fuzz only ever "buys" what does not exist.
  const noSuchSlug = seg(known.slugs.map((s) => `${s}-x`));
  const asset = seg([...known.assets, "ast_nope"]);
  const token = seg([`tgd_${"x".repeat(43)}`, "tgd_short"]);
  const admin = fc.constantFrom(
    "/admin",
    "/admin/products",
    "/admin/products/new",
    "/admin/orders",
    "/admin/customers",
    "/admin/downloads",
    "/admin/tokens",
    "/admin/webhooks",
    "/admin/settings",
    "/admin/customers/grant",
    "/admin/customers/revoke",
    "/admin/customers/resend-receipt",
    "/admin/tokens",
    "/api/admin/products",
    "/api/admin/grants",
    "/api/admin/tokens",
    "/api/admin/orders",
    "/api/admin/downloads",
    "/api/admin/entitlements",
    "/api/admin/webhook-events",
    "/api/admin/outbox",
  );
  const path = fc.oneof(
    fc.constantFrom(
      "/",
      "/healthz",
      "/readyz",
      "/library",
      "/api/library",
      "/api/me",
      "/auth/login",
      "/auth/logout",
      "/auth/code",
      "/auth/callback",
      "/checkout/success",
      "/api/checkout/sync",
      "/webhooks/stripe",
      "/dev/outbox",
      "/assets/app.css",
      "/assets/checkout.js",
    ),
    slug.map((s) => `/p/${s}`),
    noSuchSlug.map((s) => `/checkout/${s}`),
    asset.map((a) => `/checkout/download/${a}`),
    fc.tuple(slug, asset).map(([s, a]) => `/download/${s}/${a}`),
    token.map((t) => `/d/${t}`),
    fc.tuple(token, asset).map(([t, a]) => `/d/${t}/${a}`),
    token.map((t) => `/d/${t}/fresh`),
    seg().map((k) => `/files/${k}`),
    seg().map((n) => `/assets/${n}`),
    admin,
    fc.tuple(admin, seg(known.slugs)).map(([a, s]) => `${a}/${s}`),
    fc.tuple(slug, seg()).map(([s, x]) => `/api/admin/products/${s}/${x}`),
    fc.array(seg(), { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join("/")}`),
  );
  const query = fc.oneof(
    fc.constant(""),
    fc
      .array(
        fc.tuple(
          fc.constantFrom(
            "session_id",
            "token",
            "next",
            "filename",
            "email",
            "sent",
            "exp",
            "sig",
            "fn",
            "ct",
            "limit",
            "to",
          ),
          fc.oneof(junkText, fc.constant(known.unpaidSession)),
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`),
  );
  const method = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("GET", "POST") },
    { weight: 2, arbitrary: fc.constantFrom("HEAD", "PUT", "PATCH", "DELETE", "OPTIONS") },
    {
      weight: 1,
      arbitrary: fc
        .stringMatching(/^[A-Z]{3,10}$/)
        .filter((m) => !["CONNECT", "TRACE", "TRACK"].includes(m)),
    },
  );
  const headerText = junkText.map((s) => s.replace(/[^\x20-\x7e]/g, "").trim());
  const headers = fc.record(
    {
      accept: fc.constantFrom(
        "text/html",
        "application/json",
        "*/*",
        "text/html,application/json;q=0.9",
        "",
      ),
      "content-type": fc.constantFrom(
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
      ),
      range: fc.oneof(
        headerText,
        fc.constantFrom("bytes=0-", "bytes=5-2", "bytes=-0", "bytes=0-1,2-3"),
      ),
      "if-range": headerText,
      origin: fc.constantFrom("http://shop.test", "https://evil.example", "null"),
      "sec-fetch-site": fc.constantFrom("same-origin", "cross-site", "none", "same-site"),
      cookie: headerText.map((v) => `tg_session=${v}`),
      authorization: fc.oneof(
        headerText.map((v) => `Bearer ${v}`),
        headerText,
      ),
      "stripe-signature": fc.oneof(
        headerText,
        fc.constant(`t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`),
      ),
      "user-agent": headerText,
      "x-request-id": headerText,
    },
    { requiredKeys: [] },
  );
  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc
      .dictionary(
        fc.constantFrom(
          "email",
          "sessionId",
          "code",
          "next",
          "token",
          "product",
          "slug",
          "filename",
          "active",
          "price",
          "kind",
          "id",
          "type",
          "data",
        ),
        fc.oneof(
          junkText,
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.constant(known.unpaidSession),
        ),
      )
      .map((o) => JSON.stringify(o)),
  );
  const body = fc.oneof(
    fc.constant(undefined),
    json,
    junkText,
    fc
      .array(fc.tuple(fc.constantFrom("email", "code", "next", "sessionId"), junkText), {
        maxLength: 3,
      })
      .map((pairs) => new URLSearchParams(pairs).toString()),
    // Not UTF-8, and past the 64 KB body limit.
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => new Uint8Array(b)),
    fc.constant("x".repeat(70 * 1024)),
  );
  return fc
    .record({ method, path, query, headers, body })
    .map(({ method, path, query, headers, body }) => ({
      method,
      path: `${path}${query}`,
      headers,
      ...(body !== undefined && method !== "GET" && method !== "HEAD" ? { body } : {}),
    }));
}
