import type { Context } from "hono";
import type { HonoEnv } from "./env.ts";

/** What every page's layout needs: the shop's name and who is signed in. */
export function pageProps(c: Context<HonoEnv>) {
  const { actor } = c.get("ctx");
  return {
    shopName: c.get("deps").settings.shopName,
    signedIn: actor.user ? { email: actor.user.email, admin: actor.admin } : null,
  };
}

export function wantsJson(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}
