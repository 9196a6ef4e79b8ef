import { Hono } from "hono";
import { stateOfCustomer } from "../../core/licenses/customerState.ts";
import {
  getLicense,
  listLicenses,
  resetLicense,
  revokeLicense,
  setLicenseLimit,
} from "../../core/licenses/sellerLicenses.ts";
import type { Unchecked } from "../../core/validate.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";

/** The seller's licence keys and customers' state (admin.ts's guard covers /api/admin/*). */
export const adminLicenses = new Hono<HonoEnv>()
  .get("/api/admin/licenses", async (c) => {
    const input = c.req.query() as Unchecked;
    return c.json({ licenses: await listLicenses({ ctx: c.get("ctx"), input }) });
  })
  .get("/api/admin/licenses/:id", async (c) =>
    c.json(await getLicense({ ctx: c.get("ctx"), input: { id: c.req.param("id") } })),
  )
  .patch("/api/admin/licenses/:id", async (c) => {
    const changes = (await readBody(c)) as Unchecked;
    const id = c.req.param("id");
    return c.json(await setLicenseLimit({ ctx: c.get("ctx"), input: { id, changes } }));
  })
  .post("/api/admin/licenses/:id/reset", async (c) => {
    const changes = (await readBody(c)) as Unchecked;
    const id = c.req.param("id");
    return c.json(await resetLicense({ ctx: c.get("ctx"), input: { id, changes } }));
  })
  .post("/api/admin/licenses/:id/revoke", async (c) => {
    const { reason } = await readBody(c);
    const id = c.req.param("id");
    return c.json(await revokeLicense({ ctx: c.get("ctx"), input: { id, reason } }));
  })
  .get("/api/admin/customers/:email/state", async (c) =>
    c.json(await stateOfCustomer({ ctx: c.get("ctx"), input: { email: c.req.param("email") } })),
  );
