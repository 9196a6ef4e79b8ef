import { findProductBySlug } from "../catalog/products.ts";
import { type Ctx, db, requireUser, system } from "../context.ts";
import { createDownloadToken } from "../delivery/tokens.ts";
import { conflict, notFound, unavailable } from "../errors.ts";
import { hitRateLimit } from "../identity/rateLimit.ts";
import { entitlementRef } from "../orders/orderState.ts";
import { orderReference } from "../orders/reference.ts";
import { parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { requireAccess } from "./accessRule.ts";

/**
 * The buyer's own help from the library (issue 18, point 7): their receipt again, and a fresh
 * download link by mail (for another device). Both go only to the signed-in buyer's own address,
 * the one they proved by signing in, so neither can send anything anywhere else. Each is limited
 * per buyer: SELF_SERVICE_LIMIT mails of a kind an hour.
 */
export const SELF_SERVICE_LIMIT = { perBuyer: 5, windowSeconds: 3600 };

const orderInput = z.object({ orderId: z.string().check(z.minLength(1), z.maxLength(100)) });
const productInput = z.object({ slug: z.string().check(z.minLength(1), z.maxLength(100)) });

const wait =
  "You asked for this several times in the last hour. Please wait a while and try again.";

/**
 * Mails the receipt of one of the buyer's paid orders again, to the buyer's own address: the same
 * receipt (product, amount, order reference, files with size and SHA-256, licence key) with a
 * fresh download link. It does not change what the seller sees of the order's receipt.
 */
export async function resendMyReceipt({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { orderId: unknown };
}): Promise<{ to: string; productName: string }> {
  const user = requireUser(ctx);
  const { orderId } = parseInput(orderInput, input);
  const L = SELF_SERVICE_LIMIT;
  await hitRateLimit(ctx, `self:receipt:${user.id}`, L.perBuyer, L.windowSeconds, wait);
  const order = await db(ctx)
    .selectFrom("orders as o")
    .innerJoin("products as p", "p.id", "o.product_id")
    .selectAll("o")
    .select(["p.name as product_name"])
    .where("o.id", "=", orderId)
    .where((eb) => eb.or([eb("o.user_id", "=", user.id), eb("o.email", "=", user.email)]))
    .executeTakeFirst();
  if (!order) throw notFound("There is no such order in your library.");
  if (order.status !== "paid")
    throw conflict(`This order is ${order.status}, so it has no receipt to send.`);
  // No access any more (refunded since, revoked): a 403 that says why.
  await requireAccess(ctx, { userId: user.id, email: user.email }, order.product_id);
  const ref = entitlementRef(order);
  const [files, license] = await Promise.all([
    db(ctx)
      .selectFrom("assets")
      .select(["filename", "size", "sha256"])
      .where("product_id", "=", order.product_id)
      .where("active", "=", 1)
      .orderBy("filename")
      .execute(),
    ref
      ? db(ctx)
          .selectFrom("licenses as l")
          .innerJoin("entitlements as e", "e.id", "l.entitlement_id")
          .select("l.key")
          .where("e.product_id", "=", order.product_id)
          .where("e.source", "=", ref.source)
          .where("e.source_ref", "=", ref.sourceRef)
          .where("l.revoked_at", "is", null)
          .executeTakeFirst()
      : undefined,
  ]);
  const link = await createDownloadToken({
    ctx: { ...ctx, actor: system },
    input: { userId: user.id, email: user.email, productId: order.product_id },
  });
  await mailOrExplain(ctx, () =>
    ctx.mailer.send({
      kind: "receipt",
      to: user.email,
      productName: order.product_name,
      orderRef: orderReference(order.id),
      amount: order.amount,
      currency: order.currency,
      files,
      link,
      licenseKey: license?.key ?? null,
    }),
  );
  ctx.log.info("receipt resent by the buyer", { orderId: order.id, userId: user.id });
  return { to: user.email, productName: order.product_name };
}

/** Mails the buyer a fresh download link to a product they own, to their own address. */
export async function mailMyFreshLink({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: unknown };
}): Promise<{ to: string; productName: string; expiresAt: number }> {
  const user = requireUser(ctx);
  const { slug } = parseInput(productInput, input);
  const L = SELF_SERVICE_LIMIT;
  await hitRateLimit(ctx, `self:link:${user.id}`, L.perBuyer, L.windowSeconds, wait);
  const product = await findProductBySlug(ctx, slug);
  if (!product) throw notFound("There is no such product in your library.");
  const link = await createDownloadToken({
    ctx: { ...ctx, actor: system },
    input: { userId: user.id, email: user.email, productId: product.id },
  });
  await mailOrExplain(ctx, () =>
    ctx.mailer.send({ kind: "fresh-link", to: user.email, productName: product.name, link }),
  );
  ctx.log.info("fresh link mailed to the buyer", { productId: product.id, userId: user.id });
  return { to: user.email, productName: product.name, expiresAt: link.expiresAt };
}

async function mailOrExplain(ctx: Ctx, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (error) {
    ctx.log.error("self-service mail not sent", { error: String(error) });
    throw unavailable(
      "We could not send the email just now. Your files are still here: download them from this page, or try again in a few minutes.",
    );
  }
}
