import { Hono } from "hono";
import { orderDownloads, resetDownloads } from "../../core/downloads/resetDownloads.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";

/** One order's downloads under its product's download limit (admin.ts's guard covers /api/admin/*). */
export const adminDownloadLimits = new Hono<HonoEnv>()
  .get(
    "/api/admin/orders/:id/downloads",
    apiDoc({
      summary: "An order's downloads per file under its product's download limit",
      tag: "Orders and logs",
      auth: "admin",
      params: { id: "The order's id (ord_...)." },
      response: "OrderDownloads",
      errors: ["not_found"],
    }),
    async (c) =>
      c.json(await orderDownloads({ ctx: c.get("ctx"), input: { orderId: c.req.param("id") } })),
  )
  .post(
    "/api/admin/orders/:id/reset-downloads",
    apiDoc({
      summary: "Reset an order's download counts",
      description:
        "Forgets the downloads counted for the order's buyer, so each file of a product with a download limit can be downloaded as often again as the product allows. Recorded in the access history as limit_changed.",
      tag: "Orders and logs",
      auth: "admin",
      params: { id: "The order's id (ord_...)." },
      response: "OrderDownloads",
      errors: ["not_found", "conflict"],
    }),
    async (c) =>
      c.json(await resetDownloads({ ctx: c.get("ctx"), input: { orderId: c.req.param("id") } })),
  );
