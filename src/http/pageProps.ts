import type { Context } from "hono";
import type { HonoEnv } from "./env.ts";

/**
 * What every page's layout needs: the shop's name and who is signed in. Also for the error page,
 * which may be shown before the request's context or the app's dependencies were set.
 */
export function pageProps(c: Context<HonoEnv>) {
  const actor = c.get("ctx")?.actor;
  return {
    shopName: c.get("deps")?.settings.shopName ?? "Tollgate",
    signedIn: actor?.user ? { email: actor.user.email, admin: actor.admin } : null,
  };
}

export function wantsJson(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}
