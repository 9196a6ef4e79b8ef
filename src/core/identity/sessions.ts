import type { Ctx } from "../context.ts";
import type { Credentials } from "../ports.ts";
import { userForExternalIdentity } from "./externalUsers.ts";

export interface Requester {
  /** Our user, whose email was verified by signing in; null when nobody is signed in. */
  user: { id: string; email: string } | null;
  /** The session cookie the request rides on, good or not (the CSRF check applies to it). */
  session: string | null;
}

/**
 * "Who holds these credentials", for the request context; built once per app. The provider says
 * whom (ctx.identity); a provider's user (Supabase) is our row for that id or email, remembered
 * for the process: one lookup per new user or changed email. Our own sessions are looked up on
 * every request, so a session that ends stops working at once.
 */
export function requesters() {
  const known = new Map<string, { id: string; email: string }>();
  return {
    async whoIs({ ctx, input }: { ctx: Ctx; input: Credentials }): Promise<Requester> {
      const { who, session } = await ctx.identity.whoIs(input);
      // Our own user's id and email as they are (built-in sessions), or nobody.
      if (!who?.provider) return { user: who, session };
      const key = `${who.id}:${who.email}`;
      let user = known.get(key);
      if (!user) {
        const { id, email } = await userForExternalIdentity(ctx, who);
        user = { id, email };
        if (known.size > 10_000) known.clear();
        known.set(key, user);
      }
      return { user, session };
    },
  };
}

/** Ends the session the cookies hold; answers the names of the cookies to clear. */
export function signOut({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { cookies: Record<string, string> };
}): Promise<string[]> {
  return ctx.identity.signOut(input.cookies);
}
