import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { unavailable } from "../../core/errors.ts";
import { activateLicense, deactivateLicense } from "../../core/licenses/activations.ts";
import { freeMyActivation } from "../../core/licenses/buyerLicenses.ts";
import { myState } from "../../core/licenses/customerState.ts";
import { offlineLicense } from "../../core/licenses/offline.ts";
import {
  activateSchema,
  deactivateSchema,
  offlineSchema,
  validateSchema,
} from "../../core/licenses/schemas.ts";
import { validateLicense } from "../../core/licenses/validate.ts";
import type { Unchecked } from "../../core/validate.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { isWhole, wholeResponse } from "../middleware/headers.ts";
import { apiDoc } from "../openapi/describe.ts";
import { iso } from "../serialize.ts";

/**
 * Hono's cors() sets its header on `c.res` before the route runs, which makes Hono copy the
 * route's answer into a new Response afterwards: a tenth of each validate's time. It answers the
 * preflight here; the answers carry the header themselves (`answer`), errors get it after.
 */
const preflight = cors({ origin: "*", allowMethods: ["POST", "OPTIONS"], maxAge: 86_400 });

/**
 * The licence API the seller's app calls from buyers' machines: no secret, open to any origin
 * (an app's web view or a site checking a key), rate-limited per client and per key.
 */
export const licenses = new Hono<HonoEnv>()
  .use("/api/v1/*", async (c, next) => {
    if (c.req.method === "OPTIONS") return preflight(c, next);
    await next();
    if (!isWhole(c.res)) c.res.headers.set("Access-Control-Allow-Origin", "*");
  })
  .use("/.well-known/jwks.json", cors({ origin: "*", allowMethods: ["GET"] }))
  .post(
    "/api/v1/licenses/activate",
    apiDoc({
      summary: "Activate a key on a machine",
      description:
        "The same fingerprint again is the same activation, counted once. Over the limit: 409 with code `activation_limit` and the activations in use. A refunded, disputed, revoked or expired licence: 403 with that code.",
      tag: "Licence API",
      auth: "public",
      body: activateSchema,
      response: "Activated",
      errors: ["not_found", "forbidden", "conflict", "rate_limited"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const input = (await readBody(c)) as Unchecked;
      return answer(c, await activateLicense({ ctx, input, client: clientOf(c) }));
    },
  )
  .post(
    "/api/v1/licenses/validate",
    apiDoc({
      summary: "Check a key, and a machine's activation",
      description:
        "`valid` and `code` say whether it works now; unknown and malformed keys both answer 404 with `valid: false`. Counts no use and takes no activation.",
      tag: "Licence API",
      auth: "public",
      body: validateSchema,
      response: "Validation",
      errors: ["not_found", "rate_limited"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const input = (await readBody(c)) as Unchecked;
      return answer(c, await validateLicense({ ctx, input, client: clientOf(c) }));
    },
  )
  .post(
    "/api/v1/licenses/deactivate",
    apiDoc({
      summary: "Free a machine's activation",
      description:
        "Freeing one that is not there is not an error: `deactivated` says whether one was.",
      tag: "Licence API",
      auth: "public",
      body: deactivateSchema,
      response: "Deactivated",
      errors: ["not_found", "rate_limited"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const input = (await readBody(c)) as Unchecked;
      return answer(c, await deactivateLicense({ ctx, input, client: clientOf(c) }));
    },
  )
  .post(
    "/api/v1/licenses/offline",
    apiDoc({
      summary: "A signed licence file for a machine",
      description:
        "Activates the machine as activate does, then answers the licence file: a compact JWS (EdDSA) whose keys are at /.well-known/jwks.json. With `Accept: application/json` the answer is this JSON; otherwise the file itself, as `application/jwt`.",
      tag: "Licence API",
      auth: "public",
      body: offlineSchema,
      response: "LicenseFile",
      errors: ["not_found", "forbidden", "conflict", "rate_limited", "unavailable"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const input = (await readBody(c)) as Unchecked;
      const { token, expiresAt } = await offlineLicense({ ctx, input, client: clientOf(c) });
      // The file itself, unless the app asks for JSON (then the file is its `licenseFile`).
      if ((c.req.header("accept") ?? "").includes("application/json"))
        return c.json({ licenseFile: token, expiresAt: iso(expiresAt) });
      return c.body(token, 200, {
        "content-type": "application/jwt",
        "content-disposition": 'attachment; filename="license.jwt"',
      });
    },
  )
  .get(
    "/.well-known/jwks.json",
    apiDoc({
      summary: "The public keys licence files are signed with",
      description: "A JSON Web Key Set; each file names its key by `kid`.",
      tag: "Licence API",
      auth: "public",
      response: "Jwks",
      errors: ["unavailable"],
    }),
    async (c) => {
      const signer = c.get("ctx").licenseSigner;
      if (!signer) throw unavailable("This shop has no licence signing key set up.");
      c.header("cache-control", "public, max-age=300");
      return c.json(await signer.publicKeys());
    },
  )
  .get(
    "/api/me/state",
    apiDoc({
      summary: "What the signed-in buyer owns now, and their licences",
      tag: "Customers",
      auth: "buyer",
      response: "CustomerState",
    }),
    async (c) => c.json(await myState({ ctx: c.get("ctx") })),
  )
  .post("/library/licenses/:id/activations/:activation/free", async (c) => {
    await freeMyActivation({
      ctx: c.get("ctx"),
      input: { licenseId: c.req.param("id"), activationId: c.req.param("activation") },
    });
    return c.redirect("/library?freed=1#licences", 303);
  });

const clientOf = (c: Parameters<HonoEnv["Variables"]["deps"]["clientIp"]>[0]) => ({
  ip: c.get("deps").clientIp(c),
});

/**
 * The answer of an app's call, with every header at once: validate runs at each start of every
 * copy of the seller's app, and setting headers one by one after the route (CORS, then the
 * security headers) cost more than the check itself (docs/performance.md).
 */
const answer = (c: Context<HonoEnv>, body: unknown) =>
  wholeResponse(
    c,
    200,
    { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" },
    JSON.stringify(body),
  );
