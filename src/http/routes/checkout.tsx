import { Hono } from "hono";
import { claimFree } from "../../core/access/claimFree.ts";
import { getProduct } from "../../core/catalog/products.ts";
import { downloadWithCheckout } from "../../core/downloads/downloadWithCheckout.ts";
import { unauthenticated } from "../../core/errors.ts";
import { confirmCheckout, GUEST_WINDOW_MS } from "../../core/orders/confirmCheckout.ts";
import { startCheckout } from "../../core/orders/startCheckout.ts";
import { parseInput } from "../../core/validate.ts";
import * as z from "../../core/zod.ts";
import { CheckoutSuccessPage } from "../../pages/checkout.tsx";
import { readBody } from "../body.ts";
import { clientInfo, deliveryRequest, deliveryResponse } from "../delivery.ts";
import type { HonoEnv } from "../env.ts";
import { pageProps, wantsJson } from "../pageProps.ts";
import { entitlementJson } from "../serialize.ts";

const syncSchema = z.object({
  sessionId: z.string().check(z.minLength(1, "is required"), z.maxLength(300)),
});

export const checkout = new Hono<HonoEnv>()
  .post("/checkout/:slug", async (c) => {
    const ctx = c.get("ctx");
    const slug = c.req.param("slug");
    const product = await getProduct({ ctx, input: { slug } });
    if (product.kind === "free") {
      if (!ctx.actor.user) {
        if (wantsJson(c)) throw unauthenticated("Sign in to get this free product.");
        return c.redirect(`/auth/login?next=${encodeURIComponent(`/p/${product.slug}`)}`, 303);
      }
      const entitlement = await claimFree({ ctx, input: { slug } });
      if (wantsJson(c)) return c.json({ entitlement: entitlementJson(entitlement) }, 201);
      return c.redirect("/library", 303);
    }
    const started = await startCheckout({
      ctx,
      input: { slug, ip: c.get("deps").clientIp(c) },
    });
    if (wantsJson(c))
      return c.json(
        { url: started.url, sessionId: started.sessionId, orderId: started.orderId },
        201,
      );
    return c.redirect(started.url, 303);
  })
  .get("/checkout/success", async (c) => {
    const sessionId = c.req.query("session_id") ?? "";
    const confirmation = await confirmCheckout({
      ctx: c.get("ctx"),
      input: { sessionId, ip: c.get("deps").clientIp(c) },
    });
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
    return c.html(
      <CheckoutSuccessPage
        {...pageProps(c)}
        confirmation={confirmation}
        sessionId={sessionId}
        linkTtlSeconds={c.get("deps").settings.delivery.tokenTtlSeconds}
        guestWindowMs={GUEST_WINDOW_MS}
      />,
    );
  })
  .post("/api/checkout/sync", async (c) => {
    const { sessionId } = parseInput(syncSchema, await readBody(c));
    const { status, order, product, files, confirmedWithProvider } = await confirmCheckout({
      ctx: c.get("ctx"),
      input: { sessionId, ip: c.get("deps").clientIp(c) },
    });
    return c.json(
      {
        status,
        order: { id: order.id, status: order.status },
        product: { slug: product.slug, name: product.name },
        email: order.email,
        files,
        confirmedWithProvider,
      },
      200,
      { "Cache-Control": "private, no-store" },
    );
  })
  .get("/checkout/download/:assetId", async (c) => {
    c.header("Referrer-Policy", "no-referrer");
    const delivery = await downloadWithCheckout({
      ctx: c.get("ctx"),
      input: {
        sessionId: c.req.query("session_id") ?? "",
        assetId: c.req.param("assetId"),
        request: deliveryRequest(c),
        client: clientInfo(c),
      },
    });
    return deliveryResponse(c, delivery);
  });
