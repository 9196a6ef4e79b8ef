import { Hono } from "hono";
import { trackCheckout, trackMyOrder } from "../../core/orders/tracking.ts";
import { OrderStatusPage } from "../../pages/orderStatus.tsx";
import type { HonoEnv } from "../env.ts";
import { pageProps } from "../pageProps.ts";

/** The buyer's order status page (decision 0023): by the checkout session proof, or signed in. */
export const orderStatus = new Hono<HonoEnv>()
  .get("/checkout/status", async (c) => {
    const sessionId = c.req.query("session_id") ?? "";
    // The session id is the guest's proof: it must not leave in a Referer.
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
    const tracking = await trackCheckout({
      ctx: c.get("ctx"),
      input: { sessionId, ip: c.get("deps").clientIp(c) },
    });
    return c.html(
      <OrderStatusPage
        {...pageProps(c)}
        tracking={tracking}
        back={{
          url: `/checkout/success?session_id=${encodeURIComponent(sessionId)}`,
          label: "Back to your purchase",
        }}
      />,
    );
  })
  .get("/library/orders/:orderId", async (c) => {
    const orderId = c.req.param("orderId");
    if (!c.get("ctx").actor.user)
      return c.redirect(
        `/auth/login?next=${encodeURIComponent(`/library/orders/${orderId}`)}`,
        303,
      );
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
    const tracking = await trackMyOrder({
      ctx: c.get("ctx"),
      input: { orderId, ip: c.get("deps").clientIp(c) },
    });
    return c.html(
      <OrderStatusPage
        {...pageProps(c)}
        tracking={tracking}
        back={{ url: "/library", label: "Back to your library" }}
      />,
    );
  });
