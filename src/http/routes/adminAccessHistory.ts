import { Hono } from "hono";
import { accessHistory, accessHistorySchema } from "../../core/access/accessHistory.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";

/** Why a customer has a product or not (issue 18; admin.ts's guard covers /api/admin/*). */
export const adminAccessHistory = new Hono<HonoEnv>().get(
  "/api/admin/access-history",
  apiDoc({
    summary: "Why a customer has (or has not) access to a product, and its history",
    description:
      "The access rule's answer for the email and the account with that email (`hasAccess`: what a download by them would get), said in one sentence, with every grant, revoke, suspension, restoration, expiry, limit change and reopen of their entitlements to the product, newest first: who made it (`stripe:{event id}`, `seller`, `cli`, `system`, `buyer`) and why.",
    tag: "Customers",
    auth: "admin",
    query: accessHistorySchema,
    response: "AccessHistory",
    errors: ["invalid_input", "not_found"],
  }),
  async (c) =>
    c.json(
      await accessHistory({
        ctx: c.get("ctx"),
        // Missing is empty, so the answer names the field as the seller would fix it.
        input: { email: c.req.query("email") ?? "", product: c.req.query("product") ?? "" },
      }),
    ),
);
