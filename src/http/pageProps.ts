import type { Context } from "hono";
import { defaultShopProfile } from "../core/shop/profile.ts";
import type { HonoEnv } from "./env.ts";

/**
 * What every page's layout needs: the shop (name, logo, support address, time zone) and who is signed in. Also for the error page,
 * which may be shown before the request's context or the app's dependencies were set.
 */
export function pageProps(c: Context<HonoEnv>) {
  const actor = c.get("ctx")?.actor;
  const deps = c.get("deps");
  return {
    shop: c.get("shop") ?? defaultShopProfile(deps?.settings.shopName ?? "Tollgate"),
    signedIn: actor?.user ? { email: actor.user.email, admin: actor.admin } : null,
    /** Mail goes to the outbox and this visitor may read it (pages that say "check your email"). */
    devOutbox: !!deps?.devOutbox && deps.fromThisMachine(c),
  };
}

export function wantsJson(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}
