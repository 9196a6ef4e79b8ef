import { z } from "zod";
import type { User } from "../../db/schema.ts";
import { type Ctx, db, newId, normalizeEmail, sha256Hex } from "../context.ts";
import { timingSafeEqual, toBase64Url } from "../encoding.ts";
import { gone, invalidInput, isAppError } from "../errors.ts";
import { parseInput } from "../validate.ts";
import { hitRateLimit, mailboxKey, type RateLimitHit, refundRateLimit } from "./rateLimit.ts";
import { createSession } from "./sessions.ts";

export const LOGIN_TTL_MINUTES = 15;

/**
 * The sign-in limits, one home for the built-in and the Supabase routes. "Mailbox" is the
 * address with case and `+tag` folded (mailboxKey), so plus-addresses share one count; "client"
 * is the request's address (deps.clientIp), skipped when unknown.
 *
 * Sign-in emails: 5 per mailbox and 30 per client in 15 minutes.
 *
 * Code guesses: a code is 6 random digits, so one guess is right with odds of 1 in 10^6, and
 * n guesses in a day against one mailbox succeed with odds of at most n in 10^6 (each new email
 * brings a new code, so the union bound holds however the guesses are spread). Read literally,
 * "below one in a million per day" would allow less than one guess a day, which no code a
 * person types can live with; the reading kept here is: each guess is one in a million, and a
 * mailbox gets only a handful of wrong guesses a day, from everyone together.
 * - 5 wrong codes per mailbox per 24-hour window: at most 5 in a million per mailbox per
 *   window (a fixed window lets at most 10 fall in any 24 hours that straddle two windows),
 *   about 1 in 550 for an attacker who keeps at one mailbox every day for a year.
 * - 30 wrong codes per client per 24-hour window: one address guessing across many mailboxes
 *   signs in somewhere with odds of at most 30 in a million a day, and can use up the guesses
 *   of at most 6 mailboxes a day.
 * Once a limit is reached every code is refused (429, even the right one: otherwise the limit
 * would stop nothing), until the window ends. A right code gives its count back, so only wrong
 * guesses use the allowance. Wrong codes never spend the emailed link: the owner can always
 * sign in with it, whatever anyone else guesses.
 */
export const SIGN_IN_LIMITS = {
  emailsPerMailbox: 5,
  emailsPerClient: 30,
  emailWindowSeconds: 15 * 60,
  wrongCodesPerMailbox: 5,
  wrongCodesPerClient: 30,
  codeWindowSeconds: 24 * 60 * 60,
} as const;

/** Counts one sign-in email against the mailbox and the client; throws rate_limited past it. */
export async function limitSignInRequest(
  ctx: Ctx,
  input: { email: string; ip?: string | null },
): Promise<void> {
  const wait = "Too many sign-in requests. Please wait a few minutes and try again.";
  const L = SIGN_IN_LIMITS;
  if (input.ip)
    await hitRateLimit(ctx, `signin:ip:${input.ip}`, L.emailsPerClient, L.emailWindowSeconds, wait);
  await hitRateLimit(
    ctx,
    `signin:mailbox:${mailboxKey(input.email)}`,
    L.emailsPerMailbox,
    L.emailWindowSeconds,
    wait,
  );
}

/**
 * Runs one code check under the guess limits: counted before the check (so parallel guesses
 * cannot slip past together), given back when the code was right or the check never happened
 * (the sign-in service was unreachable). The client is counted first, so a limited client
 * cannot use up anyone's mailbox allowance.
 */
export async function withCodeGuessLimit<T>(
  ctx: Ctx,
  input: { email: string; ip?: string | null },
  check: () => Promise<T>,
): Promise<T> {
  const wait =
    "Too many wrong codes. Use the link in the sign-in email, or try a code again later.";
  const L = SIGN_IN_LIMITS;
  const hits: RateLimitHit[] = [];
  if (input.ip)
    hits.push(
      await hitRateLimit(
        ctx,
        `code:ip:${input.ip}`,
        L.wrongCodesPerClient,
        L.codeWindowSeconds,
        wait,
      ),
    );
  hits.push(
    await hitRateLimit(
      ctx,
      `code:mailbox:${mailboxKey(input.email)}`,
      L.wrongCodesPerMailbox,
      L.codeWindowSeconds,
      wait,
    ),
  );
  let result: T;
  try {
    result = await check();
  } catch (error) {
    if (isAppError(error) && error.code === "unavailable")
      for (const hit of hits) await refundRateLimit(ctx, hit);
    throw error;
  }
  for (const hit of hits) await refundRateLimit(ctx, hit);
  return result;
}

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
  await limitSignInRequest(ctx, { email, ip: input.ip ?? null });

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
  await ctx.mailer.send({ kind: "sign-in", to: email, url, code, minutes: LOGIN_TTL_MINUTES });
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
    .returning(["email", "next_path"])
    .executeTakeFirst();
  if (!used) throw linkInvalid();
  return startSession(ctx, used.email, used.next_path);
}

/**
 * Redeems the short code from the same email, within the guess limits. A wrong code spends
 * nothing but the guess: the link and the code stay good for their owner.
 */
export async function completeSignInWithCode({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: unknown; code: unknown; ip?: string | null };
}): Promise<SignedIn> {
  const parsed = parseInput(codeSignInSchema, input);
  const email = normalizeEmail(parsed.email);
  return withCodeGuessLimit(ctx, { email, ip: input.ip ?? null }, async () => {
    const now = ctx.clock.now();
    const pending = await db(ctx)
      .selectFrom("login_tokens")
      .selectAll()
      .where("email", "=", email)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
    if (!pending) throw gone("That code has expired. Request a new sign-in email.");
    const expected = await sha256Hex(ctx, `${pending.token_hash}:${parsed.code}`);
    if (!timingSafeEqual(expected, pending.code_hash))
      throw invalidInput("That code is not right. Check the latest sign-in email and try again.");
    const used = await db(ctx)
      .updateTable("login_tokens")
      .set({ used_at: now })
      .where("token_hash", "=", pending.token_hash)
      .where("used_at", "is", null)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1)
      throw gone("That code has already been used. Request a new sign-in email.");
    return startSession(ctx, email, pending.next_path);
  });
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
