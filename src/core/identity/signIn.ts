import { z } from "zod";
import type { User } from "../../db/schema.ts";
import { type Ctx, db, newId, normalizeEmail, sha256Hex } from "../context.ts";
import { timingSafeEqual, toBase64Url } from "../encoding.ts";
import { gone, invalidInput } from "../errors.ts";
import { parseInput } from "../validate.ts";
import { signInEmail } from "./emails.ts";
import { hitRateLimit } from "./rateLimit.ts";
import { createSession } from "./sessions.ts";

export const LOGIN_TTL_MINUTES = 15;
const MAX_CODE_ATTEMPTS = 5;
const LIMITS = { perEmail: 5, perIp: 30, windowSeconds: 15 * 60 };

export const emailSchema = z
  .string()
  .trim()
  .max(254, "is too long")
  .pipe(z.email("must be an email address"));

/** The 6-digit code from a sign-in email, with the address it was sent to. */
export const codeSignInSchema = z.object({
  email: emailSchema,
  code: z
    .string()
    .trim()
    .regex(/^\d{6}$/, "must be the 6-digit code from the email"),
});

/** Only a path on this site, never `//host`, `/\host` or a scheme: no open redirects. */
export function safeNextPath(next: unknown): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  const safe = /^\/(?![/\\])[^\s\\\u0000-\u001f\u007f]*$/;
  if (typeof next !== "string" || !safe.test(next) || next.length > 500) return null;
  return next;
}

/**
 * Sends a single-use sign-in link and code. The answer is the same whether or not the email has
 * bought anything, so nobody can probe who is a customer.
 */
export async function requestSignIn({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: unknown; next?: unknown; ip?: string | null };
}): Promise<{ email: string }> {
  const email = normalizeEmail(
    parseInput(z.object({ email: emailSchema }), { email: input.email }).email,
  );
  const wait = "Too many sign-in requests. Please wait a few minutes and try again.";
  if (input.ip)
    await hitRateLimit(ctx, `signin:ip:${input.ip}`, LIMITS.perIp, LIMITS.windowSeconds, wait);
  await hitRateLimit(ctx, `signin:email:${email}`, LIMITS.perEmail, LIMITS.windowSeconds, wait);

  const token = `tgl_${toBase64Url(ctx.crypto.randomBytes(32))}`;
  const code = sixDigitCode(ctx.crypto.randomBytes(4));
  const tokenHash = await sha256Hex(ctx, token);
  const now = ctx.clock.now();
  await db(ctx)
    .insertInto("login_tokens")
    .values({
      token_hash: tokenHash,
      code_hash: await sha256Hex(ctx, `${tokenHash}:${code}`),
      email,
      next_path: safeNextPath(input.next),
      expires_at: now + LOGIN_TTL_MINUTES * 60_000,
      used_at: null,
      created_at: now,
    })
    .execute();
  const url = `${ctx.settings.publicUrl}/auth/callback?token=${token}`;
  await ctx.mailer.send(
    signInEmail({
      shopName: ctx.settings.shopName,
      to: email,
      url,
      code,
      minutes: LOGIN_TTL_MINUTES,
    }),
  );
  ctx.log.info("sign-in link sent", { email });
  return { email };
}

export interface SignedIn {
  user: User;
  sessionToken: string;
  sessionExpiresAt: number;
  next: string | null;
}

/** Redeems a sign-in link: works once, within 15 minutes. */
export async function completeSignIn({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { token: unknown };
}): Promise<SignedIn> {
  if (typeof input.token !== "string" || !/^tgl_[A-Za-z0-9_-]{43}$/.test(input.token))
    throw linkInvalid();
  const now = ctx.clock.now();
  const used = await db(ctx)
    .updateTable("login_tokens")
    .set({ used_at: now })
    .where("token_hash", "=", await sha256Hex(ctx, input.token))
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .where("attempts", "<", MAX_CODE_ATTEMPTS)
    .returning(["email", "next_path"])
    .executeTakeFirst();
  if (!used) throw linkInvalid();
  return startSession(ctx, used.email, used.next_path);
}

/** Redeems the short code from the same email; five wrong guesses spend it. */
export async function completeSignInWithCode({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: unknown; code: unknown };
}): Promise<SignedIn> {
  const parsed = parseInput(codeSignInSchema, input);
  const email = normalizeEmail(parsed.email);
  const now = ctx.clock.now();
  const pending = await db(ctx)
    .selectFrom("login_tokens")
    .selectAll()
    .where("email", "=", email)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .where("attempts", "<", MAX_CODE_ATTEMPTS)
    .orderBy("created_at", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!pending) throw gone("That code has expired. Request a new sign-in email.");
  const expected = await sha256Hex(ctx, `${pending.token_hash}:${parsed.code}`);
  if (!timingSafeEqual(expected, pending.code_hash)) {
    await db(ctx)
      .updateTable("login_tokens")
      .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
      .where("token_hash", "=", pending.token_hash)
      .execute();
    throw invalidInput("That code is not right. Check the latest sign-in email and try again.");
  }
  const used = await db(ctx)
    .updateTable("login_tokens")
    .set({ used_at: now })
    .where("token_hash", "=", pending.token_hash)
    .where("used_at", "is", null)
    .executeTakeFirst();
  if (Number(used.numUpdatedRows) !== 1)
    throw gone("That code has already been used. Request a new sign-in email.");
  return startSession(ctx, email, pending.next_path);
}

async function startSession(ctx: Ctx, email: string, next: string | null): Promise<SignedIn> {
  const user = await findOrCreateUser(ctx, email);
  const session = await createSession(ctx, user.id);
  ctx.log.info("signed in", { userId: user.id });
  return { user, sessionToken: session.token, sessionExpiresAt: session.expiresAt, next };
}

export async function findOrCreateUser(ctx: Ctx, rawEmail: string): Promise<User> {
  const email = normalizeEmail(rawEmail);
  await db(ctx)
    .insertInto("users")
    .values({ id: newId(ctx, "usr"), email, created_at: ctx.clock.now() })
    .onConflict((oc) => oc.column("email").doNothing())
    .execute();
  return db(ctx)
    .selectFrom("users")
    .selectAll()
    .where("email", "=", email)
    .executeTakeFirstOrThrow();
}

function sixDigitCode(bytes: Uint8Array): string {
  const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) % 1_000_000;
  return n.toString().padStart(6, "0");
}

const linkInvalid = () =>
  gone("This sign-in link has expired or was already used. Request a new one.");
