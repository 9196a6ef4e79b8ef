import type { User } from "../../db/schema.ts";
import { type Ctx, db, newId, normalizeEmail } from "../context.ts";
import { isAppError } from "../errors.ts";
import { applyEmailCorrections } from "../orders/emailCorrections.ts";
import type { SessionCookie, SignInProof } from "../ports.ts";
import { parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { hitRateLimit, mailboxKey, type RateLimitHit, refundRateLimit } from "./rateLimit.ts";

/*
 * Signing in, whichever provider runs (ctx.identity: built-in or Supabase): the rules live here
 * once (input, limits, safe return paths, user rows); the provider sends the email, checks the
 * link or code and keeps the session.
 */

/**
 * The sign-in limits, one home for the built-in and the Supabase sign-in. "Mailbox" is the
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

export const emailSchema = z.pipe(
  z.string().check(z.trim(), z.maxLength(254, "is too long")),
  z.email("must be an email address"),
);

/** The 6-digit code from a sign-in email, with the address it was sent to. */
export const codeSignInSchema = z.object({
  email: emailSchema,
  code: z.string().check(z.trim(), z.regex(/^\d{6}$/, "must be the 6-digit code from the email")),
});

/** Only a path on this site, never `//host`, `/\host` or a scheme: no open redirects. */
export function safeNextPath(next: unknown): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  const safe = /^\/(?![/\\])[^\s\\\u0000-\u001f\u007f]*$/;
  if (typeof next !== "string" || !safe.test(next) || next.length > 500) return null;
  return next;
}

/**
 * Sends a sign-in link and code. The answer is the same whether or not the email has bought
 * anything, so nobody can probe who is a customer. `minutes`: how long they work, null when the
 * provider decides.
 */
export async function requestSignIn({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: unknown; next?: unknown; ip?: string | null };
}): Promise<{ email: string; minutes: number | null }> {
  const email = normalizeEmail(
    parseInput(z.object({ email: emailSchema }), { email: input.email }).email,
  );
  await limitSignInRequest(ctx, { email, ip: input.ip ?? null });
  const { minutes } = await ctx.identity.sendSignIn({ email, next: safeNextPath(input.next) });
  ctx.log.info("sign-in link sent", { email });
  return { email, minutes };
}

export interface SignedIn {
  /** Null when the provider keeps the session: its user is known from the next request. */
  user: User | null;
  /** The session cookie to set. */
  cookie: SessionCookie;
  next: string | null;
}

/**
 * Redeems a sign-in link (the callback's query): works once. `fragment` when the proof is in the
 * URL fragment, which only the browser can read (Supabase's default link).
 */
export async function completeSignIn({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: Record<string, string | undefined>;
}): Promise<SignedIn | { fragment: string }> {
  const answer = await ctx.identity.redeemLink(input);
  return "fragment" in answer ? answer : signedIn(ctx, answer);
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
  return withCodeGuessLimit(ctx, { email, ip: input.ip ?? null }, async () =>
    signedIn(ctx, await ctx.identity.redeemCode({ email, code: parsed.code })),
  );
}

/** A proof's session: the provider's own, or ours for the user with the proved address. */
async function signedIn(ctx: Ctx, proof: SignInProof): Promise<SignedIn> {
  if ("cookie" in proof) return { user: null, cookie: proof.cookie, next: null };
  const user = await findOrCreateUser(ctx, proof.email);
  // The address is proved: a purchase whose bounced receipt was corrected to it moves now.
  await applyEmailCorrections(ctx, user);
  const cookie = await proof.openSession(user.id);
  ctx.log.info("signed in", { userId: user.id });
  return { user, cookie, next: proof.next };
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
