import type { User } from "../../db/schema.ts";
import { type Ctx, db, sha256Hex } from "../context.ts";
import { toBase64Url } from "../encoding.ts";

export const SESSION_DAYS = 30;
const SESSION_SHAPE = /^tgs_[A-Za-z0-9_-]{43}$/;

export async function createSession(
  ctx: Ctx,
  userId: string,
): Promise<{ token: string; expiresAt: number }> {
  const token = `tgs_${toBase64Url(ctx.crypto.randomBytes(32))}`;
  const now = ctx.clock.now();
  const expiresAt = now + SESSION_DAYS * 86_400_000;
  await db(ctx)
    .insertInto("sessions")
    .values({
      token_hash: await sha256Hex(ctx, token),
      user_id: userId,
      expires_at: expiresAt,
      created_at: now,
    })
    .execute();
  return { token, expiresAt };
}

/** The user a session cookie belongs to, or null for a missing, forged or expired one. */
export async function userForSession(ctx: Ctx, token: string | undefined): Promise<User | null> {
  if (!token || !SESSION_SHAPE.test(token)) return null;
  const row = await db(ctx)
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .select(["u.id", "u.email", "u.created_at"])
    .where("s.token_hash", "=", await sha256Hex(ctx, token))
    .where("s.expires_at", ">", ctx.clock.now())
    .executeTakeFirst();
  return row ?? null;
}

export async function endSession(ctx: Ctx, token: string | undefined): Promise<void> {
  if (!token || !SESSION_SHAPE.test(token)) return;
  await db(ctx)
    .deleteFrom("sessions")
    .where("token_hash", "=", await sha256Hex(ctx, token))
    .execute();
}
