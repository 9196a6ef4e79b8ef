import { Hono } from "hono";
import { isAppError } from "../../core/errors.ts";
import { handleProviderEvent } from "../../core/orders/handleEvent.ts";
import { readText } from "../body.ts";
import type { HonoEnv } from "../env.ts";

const MAX_BODY = 1024 * 1024;

/**
 * Stripe webhooks: verify the signature on the raw body, translate, record and apply in one
 * transaction, answer. A failure answers 5xx (through onError) so Stripe retries.
 */
export const stripeWebhooks = new Hono<HonoEnv>().post("/webhooks/stripe", async (c) => {
  const ctx = c.get("ctx");
  const body = await readText(c, MAX_BODY);
  const event = await ctx.payments.events
    .verify(body, c.req.header("stripe-signature") ?? null, ctx.clock.now())
    .catch((error: unknown) => {
      // The sender gets one plain answer for every bad signature; the operator gets the reason.
      if (isAppError(error))
        ctx.log.warn("webhook refused", { reason: error.details?.reason ?? error.message });
      throw error;
    });
  const result = await handleProviderEvent({ ctx, input: { event } });
  return c.json({
    received: true,
    duplicate: result.duplicate,
    ...(result.outcome ? { outcome: result.outcome.status } : {}),
  });
});
