import { Hono } from "hono";
import { readOutbox } from "../../adapters/mail-outbox/index.ts";
import { requireAdmin } from "../../core/context.ts";
import { notFound } from "../../core/errors.ts";
import { OutboxPage } from "../../pages/outbox.tsx";
import { checkoutStatusJs } from "../../pages/static/checkoutStatus.ts";
import { appCss } from "../../pages/static/css.ts";
import { supabaseCallbackJs } from "../../pages/static/supabaseCallback.ts";
import type { HonoEnv } from "../env.ts";
import { pageProps } from "../pageProps.ts";

export const dev = new Hono<HonoEnv>()
  .get("/assets/app.css", (c) => {
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(appCss, 200, { "Content-Type": "text/css; charset=utf-8" });
  })
  .get("/assets/supabase-callback.js", (c) => {
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(supabaseCallbackJs, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  })
  .get("/assets/checkout.js", (c) => {
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(checkoutStatusJs, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  })
  .get("/dev/outbox", async (c) => {
    const mode = c.get("deps").devOutbox;
    if (mode === "off") throw notFound("Not found.");
    if (mode === "admin") requireAdmin(c.get("ctx"));
    const messages = await readOutbox(c.get("deps").db, { limit: 50 });
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    return c.html(<OutboxPage {...pageProps(c)} messages={messages} />);
  });
