import { Hono } from "hono";
import type { HonoEnv } from "../env.ts";

export const health = new Hono<HonoEnv>()
  .get("/healthz", (c) => c.json({ ok: true }))
  .get("/readyz", async (c) => {
    const checks = await c.get("deps").ready();
    const ok = checks.every((check) => check.ok);
    c.header("Cache-Control", "no-store");
    return c.json({ ok, checks }, ok ? 200 : 503);
  });
