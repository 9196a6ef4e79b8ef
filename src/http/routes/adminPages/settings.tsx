import { Hono } from "hono";
import { requireAdmin } from "../../../core/context.ts";
import { SettingsPage } from "../../../pages/admin/settings.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";

export const settingsPages = new Hono<HonoEnv>().get("/admin/settings", async (c) => {
  requireAdmin(c.get("ctx"));
  const diagnosis = (await c.get("deps").diagnose?.()) ?? null;
  return c.html(<SettingsPage {...pageProps(c)} diagnosis={diagnosis} />);
});
