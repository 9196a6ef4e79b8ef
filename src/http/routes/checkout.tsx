import { Hono } from "hono";
import {
  claimFree,
  completeFreeClaim,
  readFreeClaim,
  requestFreeClaim,
} from "../../core/access/claimFree.ts";
import { getProduct } from "../../core/catalog/products.ts";
import { viewProduct } from "../../core/catalog/viewProduct.ts";
import { downloadWithCheckout } from "../../core/downloads/downloadWithCheckout.ts";
import { AppError, unauthenticated } from "../../core/errors.ts";
import { confirmCheckout, GUEST_WINDOW_MS } from "../../core/orders/confirmCheckout.ts";
import { correctionOffer } from "../../core/orders/correctEmail.ts";
import { startCheckout } from "../../core/orders/startCheckout.ts";
import { parseInput } from "../../core/validate.ts";
import * as z from "../../core/zod.ts";
import { CheckoutSuccessPage } from "../../pages/checkout.tsx";
import { ClaimPage, ProductPage } from "../../pages/store.tsx";
import { isFormPost, readBody } from "../body.ts";
import { clientInfo, deliveryRequest, deliveryResponse } from "../delivery.ts";
import type { HonoEnv } from "../env.ts";
import { STATUS } from "../errors.ts";
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
      if (ctx.actor.user) {
        const entitlement = await claimFree({ ctx, input: { slug } });
        if (wantsJson(c)) return c.json({ entitlement: entitlementJson(entitlement) }, 201);
        return c.redirect("/library", 303);
      }
      const body = await readBody(c);
      if (body.email === undefined) {
        if (wantsJson(c))
          throw unauthenticated("Sign in, or give your email, to get this free product.");
        return c.redirect(`/auth/login?next=${encodeURIComponent(`/p/${product.slug}`)}`, 303);
      }
      const sent = await requestFreeClaim({
        ctx,
        input: { slug, email: body.email, ip: c.get("deps").clientIp(c) },
      }).catch(async (error) => {
        // A person gets the product's page back with the reason and what they typed.
        if (!(error instanceof AppError) || !isFormPost(c)) throw error;
        const view = await viewProduct({ ctx, input: { slug } });
        if (typeof error.details?.retryAfterSeconds === "number")
          c.header("Retry-After", String(error.details.retryAfterSeconds));
        return c.html(
          <ProductPage
            {...pageProps(c)}
            {...view}
            claimError={error.message}
            claimEmail={String(body.email).slice(0, 254)}
          />,
          STATUS[error.code],
        );
      });
      if (sent instanceof Response) return sent;
      if (wantsJson(c))
        return c.json(
          {
            ok: true,
            message: `We sent a link to ${sent.email}. It works for ${sent.hours} hours.`,
          },
          202,
        );
      const query = new URLSearchParams({ claim: "sent", email: sent.email });
      return c.redirect(`/p/${product.slug}?${query}`, 303);
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
  .get("/claim/:slug", async (c) => {
    c.header("Referrer-Policy", "no-referrer");
    const { claim, product } = await readFreeClaim({
      ctx: c.get("ctx"),
      input: { slug: c.req.param("slug"), query: c.req.query() },
    });
    const query = new URL(c.req.url).search;
    return c.html(
      <ClaimPage
        {...pageProps(c)}
        productName={product.name}
        email={claim.email}
        action={`/claim/${product.slug}${query}`}
      />,
    );
  })
  .post("/claim/:slug", async (c) => {
    c.header("Referrer-Policy", "no-referrer");
    const { entitlement, link } = await completeFreeClaim({
      ctx: c.get("ctx"),
      input: { slug: c.req.param("slug"), query: c.req.query() },
    });
    if (wantsJson(c))
      return c.json({ entitlement: entitlementJson(entitlement), url: link.url }, 201);
    return c.redirect(link.url, 303);
  })
  .get("/checkout/success", async (c) => {
    const sessionId = c.req.query("session_id") ?? "";
    const confirmation = await confirmCheckout({
      ctx: c.get("ctx"),
      input: { sessionId, ip: c.get("deps").clientIp(c) },
    });
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
    const bounced = await correctionOffer(c.get("ctx"), confirmation.order);
    return c.html(
      <CheckoutSuccessPage
        {...pageProps(c)}
        confirmation={confirmation}
        bounced={bounced}
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
