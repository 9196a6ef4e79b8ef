import { Hono } from "hono";
import { readOutbox } from "../../adapters/mail-outbox/index.ts";
import { requireAdmin } from "../../core/context.ts";
import { notFound } from "../../core/errors.ts";
import { OutboxPage } from "../../pages/outbox.tsx";
import type { HonoEnv } from "../env.ts";
import { pageProps } from "../pageProps.ts";
import { STATIC_ASSET_HEADERS, STATIC_ASSETS } from "../staticAssets.ts";

export const dev = new Hono<HonoEnv>()
  .get("/assets/:name", (c) => {
    const name = c.req.param("name");
    const asset = Object.hasOwn(STATIC_ASSETS, name) ? STATIC_ASSETS[name] : undefined;
    if (!asset) throw notFound("There is no such file.");
    return c.body(asset.body, 200, { ...STATIC_ASSET_HEADERS, "Content-Type": asset.type });
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
