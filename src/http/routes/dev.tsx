import { Hono } from "hono";
import { readOutbox } from "../../adapters/mail-outbox/index.ts";
import { requireAdmin } from "../../core/context.ts";
import { notFound } from "../../core/errors.ts";
import { OutboxPage } from "../../pages/outbox.tsx";
import { adminJs } from "../../pages/static/adminJs.ts";
import { checkoutStatusJs } from "../../pages/static/checkoutStatus.ts";
import { appCss } from "../../pages/static/css.ts";
import { libraryJs } from "../../pages/static/libraryJs.ts";
import { localTimesJs } from "../../pages/static/localTimesJs.ts";
import { supabaseCallbackJs } from "../../pages/static/supabaseCallback.ts";
import type { HonoEnv } from "../env.ts";
import { pageProps } from "../pageProps.ts";

const JS = "text/javascript; charset=utf-8";

/** The CSS and the few scripts, served from memory by every runtime (no file system needed). */
const ASSETS: Record<string, { body: string; type: string }> = {
  "app.css": { body: appCss, type: "text/css; charset=utf-8" },
  "admin.js": { body: adminJs, type: JS },
  "checkout.js": { body: checkoutStatusJs, type: JS },
  "library.js": { body: libraryJs, type: JS },
  "local-times.js": { body: localTimesJs, type: JS },
  "supabase-callback.js": { body: supabaseCallbackJs, type: JS },
};

export const dev = new Hono<HonoEnv>()
  .get("/assets/:name", (c) => {
    const name = c.req.param("name");
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw notFound("There is no such file.");
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(asset.body, 200, { "Content-Type": asset.type });
  })
  .get("/dev/outbox", async (c) => {
    // Sign-in and download links are in there: open only to the shop's own machine.
    const deps = c.get("deps");
    if (!deps.devOutbox) throw notFound("Not found.");
    if (!deps.fromThisMachine(c)) requireAdmin(c.get("ctx"));
    const messages = await readOutbox(c.get("deps").db, { limit: 50 });
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    return c.html(<OutboxPage {...pageProps(c)} messages={messages} />);
  });
