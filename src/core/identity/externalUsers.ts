import type { User } from "../../db/schema.ts";
import { type Ctx, db, normalizeEmail } from "../context.ts";

/**
 * Our user for an identity verified elsewhere (Supabase): created with the provider's id on first
 * sight, or the existing user with that email, so entitlements held by email or by an earlier
 * built-in account stay theirs. A provider account whose email changed keeps its row, with the
 * new email.
 */
export async function userForExternalIdentity(
  ctx: Ctx,
  identity: { id: string; email: string },
): Promise<User> {
  const email = normalizeEmail(identity.email);
  const byEmail = () =>
    db(ctx).selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
  const existing = await byEmail();
  if (existing) return existing;
  const byId = await db(ctx)
    .selectFrom("users")
    .selectAll()
    .where("id", "=", identity.id)
    .executeTakeFirst();
  if (byId) {
    await db(ctx).updateTable("users").set({ email }).where("id", "=", byId.id).execute();
    return { ...byId, email };
  }
  await db(ctx)
    .insertInto("users")
    .values({ id: identity.id, email, created_at: ctx.clock.now() })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return (await byEmail()) as User;
}
