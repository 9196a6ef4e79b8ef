import { Hono } from "hono";
import { cors } from "hono/cors";
import { unavailable } from "../../core/errors.ts";
import { activateLicense, deactivateLicense } from "../../core/licenses/activations.ts";
import { freeMyActivation } from "../../core/licenses/buyerLicenses.ts";
import { myState } from "../../core/licenses/customerState.ts";
import { offlineLicense } from "../../core/licenses/offline.ts";
import { validateLicense } from "../../core/licenses/validate.ts";
import type { Unchecked } from "../../core/validate.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { iso } from "../serialize.ts";

/**
 * The licence API the seller's app calls from buyers' machines: no secret, open to any origin
 * (an app's web view or a site checking a key), rate-limited per client and per key.
 */
export const licenses = new Hono<HonoEnv>()
  .use("/api/v1/*", cors({ origin: "*", allowMethods: ["POST", "OPTIONS"], maxAge: 86_400 }))
  .use("/.well-known/jwks.json", cors({ origin: "*", allowMethods: ["GET"] }))
  .post("/api/v1/licenses/activate", async (c) => {
    const ctx = c.get("ctx");
    const input = (await readBody(c)) as Unchecked;
    return c.json(await activateLicense({ ctx, input, client: clientOf(c) }));
  })
  .post("/api/v1/licenses/validate", async (c) => {
    const ctx = c.get("ctx");
    const input = (await readBody(c)) as Unchecked;
    return c.json(await validateLicense({ ctx, input, client: clientOf(c) }));
  })
  .post("/api/v1/licenses/deactivate", async (c) => {
    const ctx = c.get("ctx");
    const input = (await readBody(c)) as Unchecked;
    return c.json(await deactivateLicense({ ctx, input, client: clientOf(c) }));
  })
  .post("/api/v1/licenses/offline", async (c) => {
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
  })
  .get("/.well-known/jwks.json", async (c) => {
    const signer = c.get("ctx").licenseSigner;
    if (!signer) throw unavailable("This shop has no licence signing key set up.");
    c.header("cache-control", "public, max-age=300");
    return c.json(await signer.publicKeys());
  })
  .get("/api/me/state", async (c) => c.json(await myState({ ctx: c.get("ctx") })))
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
