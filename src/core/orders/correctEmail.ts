import type { Order } from "../../db/schema.ts";
import { type Ctx, db, newId, normalizeEmail, withTransaction } from "../context.ts";
import { invalidInput, isAppError, notFound } from "../errors.ts";
import { hitRateLimit } from "../identity/rateLimit.ts";
import { emailSchema, limitSignInRequest } from "../identity/signIn.ts";
import { parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { orderForViewer } from "./confirmCheckout.ts";
import { receiptState } from "./receipts.ts";

/**
 * A bounced receipt's correction, asked for from the paying browser's success page (decision
 * 0024): the session id in its URL is the proof, as for its downloads. The corrected address gets
 * a sign-in link; nothing moves until it is used (emailCorrections.ts).
 *
 * Limits: 10 requests per client an hour (20 for clients whose address is unknown, together),
 * counted before anything is looked up; and the sign-in email's own limits (5 per mailbox, 30 per
 * client in 15 minutes).
 */
export const CORRECTION_LIMITS = { perClient: 10, unknownClients: 20, windowSeconds: 3600 };

export const correctEmailSchema = z.object({
  sessionId: z.string().check(z.maxLength(300, "is too long")),
  email: emailSchema,
});

/** The one answer for a session id that is unknown, malformed, not the viewer's, or not bounced. */
const nothingToCorrect = () =>
  notFound(
    "There is no bounced receipt to correct for this checkout. Open your purchase's confirmation page again, or sign in with the email you paid with.",
  );

/** What the success page offers when the order's receipt bounced; null when it did not. */
export interface CorrectionOffer {
  /** The address the receipt bounced from. */
  email: string | null;
  bouncedAt: number;
  /** A correction already asked for and waiting for its sign-in: the address it went to. */
  pendingEmail: string | null;
}

/**
 * Whether this order's receipt bounced and may still be corrected: paid, its receipt bounced
 * since it was last delivered, and no correction of it used yet (once only).
 */
export async function correctionOffer(ctx: Ctx, order: Order): Promise<CorrectionOffer | null> {
  if (order.status !== "paid" || receiptState(order) !== "bounced") return null;
  const corrections = await db(ctx)
    .selectFrom("email_corrections")
    .select(["status", "new_email"])
    .where("order_id", "=", order.id)
    .where("status", "in", ["pending", "used"])
    .execute();
  if (corrections.some((c) => c.status === "used")) return null;
  const email =
    order.email ??
    (order.user_id
      ? ((
          await db(ctx)
            .selectFrom("users")
            .select("email")
            .where("id", "=", order.user_id)
            .executeTakeFirst()
        )?.email ?? null)
      : null);
  return {
    email,
    bouncedAt: Number(order.receipt_bounced_at),
    pendingEmail: corrections.find((c) => c.status === "pending")?.new_email ?? null,
  };
}

/**
 * Records a pending correction of a bounced receipt's address (replacing one still pending for
 * the order) and mails the new address a sign-in link. Answers the same way for a session id that
 * is unknown, malformed, another account's, expired for guests, or whose receipt did not bounce.
 */
export async function requestEmailCorrection({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sessionId: unknown; email: unknown; ip?: string | null };
}): Promise<{ email: string; minutes: number | null; productName: string }> {
  const L = CORRECTION_LIMITS;
  await hitRateLimit(
    ctx,
    `correct:ip:${input.ip || "unknown"}`,
    input.ip ? L.perClient : L.unknownClients,
    L.windowSeconds,
    "Too many address corrections from here. Please wait an hour and try again.",
  );
  const parsed = parseInput(correctEmailSchema, {
    sessionId: typeof input.sessionId === "string" ? input.sessionId : "",
    email: input.email,
  });
  const email = normalizeEmail(parsed.email);

  let order: Order;
  try {
    order = await orderForViewer(ctx, parsed.sessionId);
  } catch (error) {
    if (isAppError(error)) throw nothingToCorrect();
    throw error;
  }
  const offer = await correctionOffer(ctx, order);
  if (!offer) throw nothingToCorrect();
  if (offer.email && normalizeEmail(offer.email) === email)
    throw invalidInput(
      `${email} is the address the receipt bounced from. Type the address you meant, then try again.`,
      { fields: { email: "is the address that bounced" } },
    );
  await limitSignInRequest(ctx, { email, ip: input.ip ?? null });

  const now = ctx.clock.now();
  await withTransaction(ctx, async (tx) => {
    await db(tx)
      .updateTable("email_corrections")
      .set({ status: "replaced" })
      .where("order_id", "=", order.id)
      .where("status", "=", "pending")
      .execute();
    await db(tx)
      .insertInto("email_corrections")
      .values({
        id: newId(ctx, "corr"),
        order_id: order.id,
        old_email: offer.email,
        new_email: email,
        status: "pending",
        bounced_at: order.receipt_bounced_at,
        bounce_reason: order.receipt_bounce_reason,
        user_id: null,
        created_at: now,
        used_at: null,
      })
      .execute();
  });
  // The link leads to the library, where the purchase is once the sign-in moved it.
  const { minutes } = await ctx.identity.sendSignIn({ email, next: "/library?corrected=1" });
  const product = await db(ctx)
    .selectFrom("products")
    .select("name")
    .where("id", "=", order.product_id)
    .executeTakeFirstOrThrow();
  ctx.log.info("email correction asked for", { orderId: order.id });
  return { email, minutes, productName: product.name };
}
