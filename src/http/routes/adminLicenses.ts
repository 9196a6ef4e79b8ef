import { Hono } from "hono";
import { stateOfCustomer } from "../../core/licenses/customerState.ts";
import { resetSchema, setLimitSchema } from "../../core/licenses/schemas.ts";
import {
  getLicense,
  listLicenses,
  listSchema,
  resetLicense,
  revokeLicense,
  setLicenseLimit,
} from "../../core/licenses/sellerLicenses.ts";
import type { Unchecked } from "../../core/validate.ts";
import * as z from "../../core/zod.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";

/** The seller's licence keys and customers' state (admin.ts's guard covers /api/admin/*). */
export const adminLicenses = new Hono<HonoEnv>()
  .get(
    "/api/admin/licenses",
    apiDoc({
      summary: "List licence keys, newest first",
      tag: "Licences",
      auth: "admin",
      query: listSchema,
      response: "Licenses",
      errors: ["invalid_input"],
    }),
    async (c) => {
      const input = c.req.query() as Unchecked;
      return c.json({ licenses: await listLicenses({ ctx: c.get("ctx"), input }) });
    },
  )
  .get(
    "/api/admin/licenses/:id",
    apiDoc({
      summary: "A licence key, with its activations",
      tag: "Licences",
      auth: "admin",
      params: { id: "The licence's id." },
      response: "License",
      errors: ["not_found"],
    }),
    async (c) => c.json(await getLicense({ ctx: c.get("ctx"), input: { id: c.req.param("id") } })),
  )
  .patch(
    "/api/admin/licenses/:id",
    apiDoc({
      summary: "Set one key's activation limit",
      description: "null gives the key the product's limit again.",
      tag: "Licences",
      auth: "admin",
      params: { id: "The licence's id." },
      body: setLimitSchema,
      response: "License",
      errors: ["not_found"],
    }),
    async (c) => {
      const changes = (await readBody(c)) as Unchecked;
      const id = c.req.param("id");
      return c.json(await setLicenseLimit({ ctx: c.get("ctx"), input: { id, changes } }));
    },
  )
  .post(
    "/api/admin/licenses/:id/reset",
    apiDoc({
      summary: "Free one activation, or all",
      tag: "Licences",
      auth: "admin",
      params: { id: "The licence's id." },
      body: resetSchema,
      response: "LicenseReset",
      errors: ["not_found"],
    }),
    async (c) => {
      const changes = (await readBody(c)) as Unchecked;
      const id = c.req.param("id");
      return c.json(await resetLicense({ ctx: c.get("ctx"), input: { id, changes } }));
    },
  )
  .post(
    "/api/admin/licenses/:id/revoke",
    apiDoc({
      summary: "Revoke a key for good",
      tag: "Licences",
      auth: "admin",
      params: { id: "The licence's id." },
      body: z.object({ reason: z.optional(z.string()) }),
      response: "License",
      errors: ["not_found"],
    }),
    async (c) => {
      const { reason } = await readBody(c);
      const id = c.req.param("id");
      return c.json(await revokeLicense({ ctx: c.get("ctx"), input: { id, reason } }));
    },
  )
  .get(
    "/api/admin/customers/:email/state",
    apiDoc({
      summary: "What one customer owns now, and their licences",
      tag: "Customers",
      auth: "admin",
      params: { email: "The customer's email." },
      response: "CustomerState",
    }),
    async (c) =>
      c.json(await stateOfCustomer({ ctx: c.get("ctx"), input: { email: c.req.param("email") } })),
  );
