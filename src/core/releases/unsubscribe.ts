/**
 * One-click unsubscribe from update mails (decision 0018, RFC 8058). Each update mail carries a
 * link signed with the shop's link secret for its address: no session, nothing stored per mail.
 * Opening it (GET) only shows a page with one button; the POST, from that button or from a mail
 * client's List-Unsubscribe-Post, records the address in mail_unsubscribes and skips its notices
 * still queued. A tampered or unknown token gets one and the same answer.
 */
import { type Ctx, db, normalizeEmail, withSharedCommit } from "../context.ts";
import { timingSafeEqual, toBase64Url } from "../encoding.ts";
import { invalidInput } from "../errors.ts";

const PREFIX = "unsubscribe-updates\n";

const invalidToken = () =>
  invalidInput(
    "This unsubscribe link is not valid. Use the link in your most recent update email.",
  );

async function signature(ctx: Ctx, email: string): Promise<string> {
  return toBase64Url(await ctx.crypto.hmacSha256(ctx.settings.linkSecret, `${PREFIX}${email}`));
}

/** The token of an address: the address (base64url) and its signature. */
export async function unsubscribeToken(ctx: Ctx, email: string): Promise<string> {
  const address = normalizeEmail(email);
  return `${toBase64Url(new TextEncoder().encode(address))}.${await signature(ctx, address)}`;
}

export async function unsubscribeUrl(ctx: Ctx, email: string): Promise<string> {
  return `${ctx.settings.publicUrl}/unsubscribe?token=${await unsubscribeToken(ctx, email)}`;
}

/** The address a token was made for, when its signature holds; else one and the same error. */
export async function readUnsubscribeToken(ctx: Ctx, token: string | undefined): Promise<string> {
  const [encoded, sig, ...rest] = (token ?? "").split(".");
  if (!encoded || !sig || rest.length || encoded.length > 700) throw invalidToken();
  let email: string;
  try {
    const binary = atob(encoded.replace(/-/g, "+").replace(/_/g, "/"));
    email = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw invalidToken();
  }
  if (!timingSafeEqual(sig, await signature(ctx, email))) throw invalidToken();
  return email;
}

/**
 * Unsubscribes the token's address from update mails: recorded once (again is a no-op), and its
 * notices still queued and held by no sender are skipped.
 */
export async function unsubscribe({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { token: string | undefined };
}): Promise<{ email: string }> {
  const email = await readUnsubscribeToken(ctx, input.token);
  const now = ctx.clock.now();
  await withSharedCommit(ctx, async (tx) => {
    await db(tx)
      .insertInto("mail_unsubscribes")
      .values({ email, created_at: now })
      .onConflict((oc) => oc.column("email").doNothing())
      .execute();
    await db(tx)
      .updateTable("release_notices")
      .set({ status: "skipped", last_error: "unsubscribed" })
      .where("email", "=", email)
      .where("status", "=", "queued")
      .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]))
      .execute();
  });
  ctx.log.info("unsubscribed from update mails", { email });
  return { email };
}
