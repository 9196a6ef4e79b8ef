import { adminJs } from "../pages/static/adminJs.ts";
import { checkoutStatusJs } from "../pages/static/checkoutStatus.ts";
import { appCss } from "../pages/static/css.ts";
import { libraryJs } from "../pages/static/libraryJs.ts";
import { localTimesJs } from "../pages/static/localTimesJs.ts";
import { supabaseCallbackJs } from "../pages/static/supabaseCallback.ts";

const JS = "text/javascript; charset=utf-8";

/**
 * The pages' stylesheet and scripts, served at /assets/{name}. Node serves them from memory; the
 * Worker build writes them as static assets that Cloudflare serves before the Worker runs, and
 * carries none of them in its code (scripts/build-worker.ts).
 */
export const STATIC_ASSETS: Record<string, { body: string; type: string }> = {
  "app.css": { body: appCss, type: "text/css; charset=utf-8" },
  "admin.js": { body: adminJs, type: JS },
  "checkout.js": { body: checkoutStatusJs, type: JS },
  "library.js": { body: libraryJs, type: JS },
  "local-times.js": { body: localTimesJs, type: JS },
  "supabase-callback.js": { body: supabaseCallbackJs, type: JS },
};

/** Sent with each of them, by either runtime. */
export const STATIC_ASSET_HEADERS = {
  "Cache-Control": "public, max-age=3600",
  "X-Content-Type-Options": "nosniff",
};
