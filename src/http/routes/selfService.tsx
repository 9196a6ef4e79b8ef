import { Hono } from "hono";
import { mailMyFreshLink, resendMyReceipt } from "../../core/access/selfService.ts";
import { isFormPost } from "../body.ts";
import type { HonoEnv } from "../env.ts";

/**
 * The buyer's self-service from the library (issue 18, point 7): their receipt again, a fresh
 * link by mail; both to their own address only. A form post comes back to the library with a
 * confirmation; a program gets `{ ok, message }`.
 */
export const selfService = new Hono<HonoEnv>()
  .post("/library/orders/:orderId/resend-receipt", async (c) => {
    const sent = await resendMyReceipt({
      ctx: c.get("ctx"),
      input: { orderId: c.req.param("orderId") },
    });
    if (isFormPost(c)) return c.redirect("/library?sent=receipt", 303);
    return c.json({
      ok: true,
      message: `We sent the receipt for ${sent.productName} to ${sent.to}.`,
    });
  })
  .post("/library/:slug/fresh-link", async (c) => {
    const sent = await mailMyFreshLink({ ctx: c.get("ctx"), input: { slug: c.req.param("slug") } });
    if (isFormPost(c)) return c.redirect("/library?sent=link", 303);
    return c.json({
      ok: true,
      message: `We sent a fresh download link for ${sent.productName} to ${sent.to}.`,
      expiresAt: new Date(sent.expiresAt).toISOString(),
    });
  });
