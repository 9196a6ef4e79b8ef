import { Hono } from "hono";
import { reopenOrder, reopenSchema } from "../../core/orders/reopenOrder.ts";
import type { Unchecked } from "../../core/validate.ts";
import * as z from "../../core/zod.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";
import { iso } from "../serialize.ts";

/** Re-opening an order whose access ended (issue 18; admin.ts's guard covers /api/admin/*). */
export const adminOrderReopen = new Hono<HonoEnv>().post(
  "/api/admin/orders/:id/reopen",
  apiDoc({
    summary: "Re-open an order whose access has ended, and mail the buyer a fresh link",
    description:
      "The order's access works again from now for `for` (`7d`, `48h` or seconds; 7 days when absent), the buyer gets a fresh download link by mail, and the access history records `reopened` by the seller. 409 for an order that was refunded or lost a dispute (grant access instead), one with a dispute open, an unpaid one, and one whose access has not ended.",
    tag: "Orders and logs",
    auth: "admin",
    params: { id: "The order's id (`ord_...`), or the reference on its receipt (`7KQ4M-2ZPXA`)." },
    body: z.omit(reopenSchema, { order: true }),
    response: "OrderReopened",
    errors: ["not_found", "conflict"],
  }),
  async (c) => {
    const body = await readBody(c);
    const reopened = await reopenOrder({
      ctx: c.get("ctx"),
      input: { ...body, order: c.req.param("id") } as unknown as Unchecked,
    });
    return c.json({ ...reopened, until: iso(reopened.until) });
  },
);
