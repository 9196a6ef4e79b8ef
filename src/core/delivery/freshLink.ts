import { productById } from "../catalog/products.ts";
import { type Ctx, db, normalizeEmail, sha256Hex, system } from "../context.ts";
import { isAppError } from "../errors.ts";
import { hitRateLimit } from "../identity/rateLimit.ts";
import { emailSchema } from "../identity/signIn.ts";
import { parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { type CreatedToken, createDownloadToken, entitlementOf, findToken } from "./tokens.ts";

const WINDOW_SECONDS = 60 * 60;
/** Per hour: asks from one address, asks through one link, and mails to one inbox. */
const LIMITS = { perIp: 20, perLink: 3, perInbox: 5 };

export const freshLinkSchema = z.object({ email: emailSchema });

/**
 * "Send me a fresh link" from an expired or spent token link. When the email matches the one on
 * file for the link and its owner still has access, a new link with the same scope is mailed to
 * it. The caller always gets the same answer, so the form never tells whether an address is a
 * customer; what really happened goes to the log (never the token itself).
 */
export async function requestFreshLink({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { token: string; email: unknown; ip?: string | null };
}): Promise<{ email: string }> {
  const email = normalizeEmail(parseInput(freshLinkSchema, { email: input.email }).email);
  const wait =
    "Too many requests for a fresh link. Please wait a while (at most an hour) and try again.";
  if (input.ip) await hitRateLimit(ctx, `fresh:ip:${input.ip}`, LIMITS.perIp, WINDOW_SECONDS, wait);
  const linkKey = `fresh:link:${await sha256Hex(ctx, input.token)}`;
  await hitRateLimit(ctx, linkKey, LIMITS.perLink, WINDOW_SECONDS, wait);

  const token = await findToken(ctx, input.token);
  const notSent = (reason: string) => {
    ctx.log.info("fresh link not sent", { reason, tokenId: token?.id ?? null });
    return { email };
  };
  if (!token) return notSent("unknown link");
  if (token.revoked_at !== null) return notSent("link revoked");

  const entitlement = await entitlementOf(ctx, token);
  if (!(await addressesOnFile(ctx, entitlement)).includes(email)) {
    return notSent("email does not match");
  }
  try {
    await hitRateLimit(ctx, `fresh:to:${email}`, LIMITS.perInbox, WINDOW_SECONDS, wait);
  } catch (error) {
    if (isAppError(error) && error.code === "rate_limited") return notSent("inbox limit");
    throw error;
  }

  let link: CreatedToken;
  try {
    link = await createDownloadToken({
      ctx: { ...ctx, actor: system },
      input: {
        ...(entitlement.user_id ? { userId: entitlement.user_id } : {}),
        email,
        productId: entitlement.product_id,
        ...(token.asset_id ? { assetId: token.asset_id } : {}),
      },
    });
  } catch (error) {
    // No access any more (refunded, revoked, ended) or the one file was retired: no mail.
    if (isAppError(error) && (error.code === "forbidden" || error.code === "gone")) {
      return notSent(error.code === "forbidden" ? "no active access" : "file retired");
    }
    throw error;
  }
  const product = await productById(ctx, entitlement.product_id);
  const sent = await mailFreshLink(ctx, { to: email, productName: product.name, link });
  if (sent) ctx.log.info("fresh link sent", { tokenId: token.id, newTokenId: link.id, email });
  return { email };
}

/**
 * The fresh-link mail, for a buyer who asked from an expired link or whose ended access the
 * seller re-opened (`reopenedUntil`); false, and logged, when the mailer did not take it.
 */
export async function mailFreshLink(
  ctx: Ctx,
  mail: { to: string; productName: string; link: CreatedToken; reopenedUntil?: number },
): Promise<boolean> {
  try {
    await ctx.mailer.send({ kind: "fresh-link", ...mail });
    return true;
  } catch (error) {
    ctx.log.error("fresh link not sent", {
      reason: "mail failed",
      newTokenId: mail.link.id,
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

/** The verified addresses of a link's owner: the entitlement's email and its user's email. */
async function addressesOnFile(
  ctx: Ctx,
  entitlement: { email: string | null; user_id: string | null },
): Promise<string[]> {
  const addresses = entitlement.email ? [normalizeEmail(entitlement.email)] : [];
  if (entitlement.user_id) {
    const user = await db(ctx)
      .selectFrom("users")
      .select("email")
      .where("id", "=", entitlement.user_id)
      .executeTakeFirst();
    if (user) addresses.push(normalizeEmail(user.email));
  }
  return addresses;
}
