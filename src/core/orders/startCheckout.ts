import { checkoutAmount } from "../catalog/pricing.ts";
import { getProduct } from "../catalog/products.ts";
import { type Ctx, db, newId } from "../context.ts";
import { AppError, conflict, unavailable } from "../errors.ts";
import { checkoutSettings } from "../shop/checkoutSettings.ts";
import { limitCheckoutStart } from "./checkoutLimits.ts";
import { chosenPriceId } from "./chosenPrice.ts";

/**
 * Starts a purchase: records the order as pending, then asks the payment provider for a Checkout
 * Session that carries our order id and product slug. The browser is sent to the session's URL;
 * only the provider's confirmation (webhook or sync) will ever mark the order paid. Limited per
 * client (`ip`: the request's client address, null when unknown; see checkoutLimits.ts), since
 * anyone may call it and each call costs an order row and a provider call.
 */
export async function startCheckout({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; ip?: string | null };
}): Promise<{ orderId: string; sessionId: string; url: string }> {
  await limitCheckoutStart(ctx, input.ip);
  const product = await getProduct({ ctx, input: { slug: input.slug } });
  if (product.kind === "free")
    throw conflict("This product is free: claim it instead of buying it.");
  const user = ctx.actor.user;
  const options = await checkoutSettings(ctx);
  const { amount, minimum } = checkoutAmount(product);
  const now = ctx.clock.now();
  const orderId = newId(ctx, "ord");
  await db(ctx)
    .insertInto("orders")
    .values({
      id: orderId,
      product_id: product.id,
      checkout_session_id: null,
      payment_intent_id: null,
      subscription_id: null,
      customer_id: null,
      email: user?.email ?? null,
      user_id: user?.id ?? null,
      amount,
      amount_minimum: minimum,
      currency: product.currency,
      status: "pending",
      flag: null,
      receipt_sent_at: null,
      receipt_delivered_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();

  const base = ctx.settings.publicUrl;
  const metadata = { product: product.slug, order: orderId };
  let session: { id: string; url: string };
  let priceId = product.stripe_price_id;
  try {
    if (minimum !== null)
      priceId = await chosenPriceId(ctx, product, { minimum, suggested: amount }, options);
    session = await ctx.payments.createCheckout({
      mode: product.kind === "subscription" ? "subscription" : "payment",
      item: {
        name: product.name,
        currency: product.currency,
        unitAmount: amount,
        interval: product.interval,
        priceId,
        taxCode: product.tax_code,
      },
      options,
      clientReferenceId: user?.id ?? null,
      customerEmail: user?.email ?? null,
      metadata,
      successUrl: `${base}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${base}/p/${product.slug}?checkout=cancelled`,
    });
  } catch (error) {
    await db(ctx)
      .updateTable("orders")
      .set({ status: "failed", updated_at: ctx.clock.now() })
      .where("id", "=", orderId)
      .execute();
    ctx.log.error("checkout could not start", {
      orderId,
      error: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof AppError) throw error;
    throw unavailable("Payment is not reachable right now. Please try again in a minute.");
  }
  await db(ctx)
    .updateTable("orders")
    // The chosen-price Price, when one was made: the session's line item must name it.
    .set({
      checkout_session_id: session.id,
      ...(minimum !== null ? { price_id: priceId } : {}),
      updated_at: ctx.clock.now(),
    })
    .where("id", "=", orderId)
    .execute();
  // Not the session id: it is a guest's proof of purchase, and logs are read by more people.
  ctx.log.info("checkout started", { orderId, product: product.slug });
  return { orderId, sessionId: session.id, url: session.url };
}
