import { timingSafeEqual, toBase64Url, toHex } from "../../core/encoding.ts";
import { gone, invalidInput } from "../../core/errors.ts";
import type {
  Clock,
  Crypto,
  Db,
  Identity,
  Mailer,
  ReadCache,
  SessionCookie,
  SignInProof,
} from "../../core/ports.ts";

/** The session cookie of the built-in sign-in. */
export const SESSION_COOKIE = "tg_session";
const LOGIN_TTL_MINUTES = 15;
const SESSION_DAYS = 30;
const LINK_SHAPE = /^tgl_[A-Za-z0-9_-]{43}$/;
const SESSION_SHAPE = /^tgs_[A-Za-z0-9_-]{43}$/;

/**
 * The built-in sign-in (decision 0003): a single-use link (`tgl_` + 256 bits) and a 6-digit code
 * for the same attempt, both working once within 15 minutes, and sessions (`tgs_` + 256 bits)
 * for 30 days. Only hashes are stored (login_tokens, sessions). The limits around it are the
 * core's (core/identity/signIn.ts).
 */
export function builtinIdentity(deps: {
  db: Db;
  crypto: Crypto;
  clock: Clock;
  mailer: Mailer;
  publicUrl: string;
  /** Recent sessions (core/readCache.ts): signing out or a session's end is seen within a second everywhere, at once here. */
  reads?: ReadCache;
}): Identity {
  const { db, crypto, clock } = deps;
  const hash = async (value: string) => toHex(await crypto.sha256(value));

  async function openSession(userId: string): Promise<SessionCookie> {
    const token = `tgs_${toBase64Url(crypto.randomBytes(32))}`;
    const now = clock.now();
    const expiresAt = now + SESSION_DAYS * 86_400_000;
    await db
      .insertInto("sessions")
      .values({
        token_hash: await hash(token),
        user_id: userId,
        expires_at: expiresAt,
        created_at: now,
      })
      .execute();
    return { name: SESSION_COOKIE, value: token, expiresAt };
  }
  /** The address is proved: the core finds or makes its user, then opens a session here. */
  const proved = (email: string, next: string | null): SignInProof => ({
    email,
    next,
    openSession,
  });

  return {
    async sendSignIn({ email, next }) {
      const token = `tgl_${toBase64Url(crypto.randomBytes(32))}`;
      const code = sixDigitCode(crypto.randomBytes(4));
      const tokenHash = await hash(token);
      const now = clock.now();
      await db
        .insertInto("login_tokens")
        .values({
          token_hash: tokenHash,
          code_hash: await hash(`${tokenHash}:${code}`),
          email,
          next_path: next,
          expires_at: now + LOGIN_TTL_MINUTES * 60_000,
          used_at: null,
          created_at: now,
        })
        .execute();
      const url = `${deps.publicUrl}/auth/callback?token=${token}`;
      await deps.mailer.send({ kind: "sign-in", to: email, url, code, minutes: LOGIN_TTL_MINUTES });
      return { minutes: LOGIN_TTL_MINUTES };
    },

    async redeemLink({ token }) {
      if (!token || !LINK_SHAPE.test(token)) throw linkInvalid();
      const now = clock.now();
      const used = await db
        .updateTable("login_tokens")
        .set({ used_at: now })
        .where("token_hash", "=", await hash(token))
        .where("used_at", "is", null)
        .where("expires_at", ">", now)
        .returning(["email", "next_path"])
        .executeTakeFirst();
      if (!used) throw linkInvalid();
      return proved(used.email, used.next_path);
    },

    // A wrong code spends nothing but the guess: the link and the code stay good for their owner.
    async redeemCode({ email, code }) {
      const now = clock.now();
      const pending = await db
        .selectFrom("login_tokens")
        .selectAll()
        .where("email", "=", email)
        .where("used_at", "is", null)
        .where("expires_at", ">", now)
        .orderBy("created_at", "desc")
        .limit(1)
        .executeTakeFirst();
      if (!pending) throw gone("That code has expired. Request a new sign-in email.");
      const expected = await hash(`${pending.token_hash}:${code}`);
      if (!timingSafeEqual(expected, pending.code_hash))
        throw invalidInput("That code is not right. Check the latest sign-in email and try again.");
      const used = await db
        .updateTable("login_tokens")
        .set({ used_at: now })
        .where("token_hash", "=", pending.token_hash)
        .where("used_at", "is", null)
        .executeTakeFirst();
      if (Number(used.numUpdatedRows) !== 1)
        throw gone("That code has already been used. Request a new sign-in email.");
      return proved(email, pending.next_path);
    },

    // Looked up on every request, through the read cache: a session that ends stops working at
    // once in this process and within a second in every other.
    async whoIs({ cookies }) {
      const session = cookies[SESSION_COOKIE] ?? null;
      if (!session || !SESSION_SHAPE.test(session)) return { who: null, session };
      const read = async () =>
        (await db
          .selectFrom("sessions as s")
          .innerJoin("users as u", "u.id", "s.user_id")
          .select(["u.id", "u.email", "s.expires_at"])
          .where("s.token_hash", "=", await hash(session))
          .executeTakeFirst()) ?? null;
      const row = await (deps.reads ? deps.reads.read(`session:${session}`, read) : read());
      const who = row && row.expires_at > clock.now() ? { id: row.id, email: row.email } : null;
      return { who, session };
    },

    async signOut(cookies) {
      const session = cookies[SESSION_COOKIE];
      if (session && SESSION_SHAPE.test(session))
        await db
          .deleteFrom("sessions")
          .where("token_hash", "=", await hash(session))
          .execute();
      return [SESSION_COOKIE];
    },
  };
}

function sixDigitCode(bytes: Uint8Array): string {
  const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) % 1_000_000;
  return n.toString().padStart(6, "0");
}

const linkInvalid = () =>
  gone("This sign-in link has expired or was already used. Request a new one.");
