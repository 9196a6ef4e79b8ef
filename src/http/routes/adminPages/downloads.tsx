import { Hono } from "hono";
import * as z from "zod";
import { listDownloads } from "../../../core/downloads/listDownloads.ts";
import { parseInput } from "../../../core/validate.ts";
import { DownloadsPage } from "../../../pages/admin/downloads.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";

const query = z.object({
  email: z.string().trim().max(254).default(""),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const downloadPages = new Hono<HonoEnv>().get("/admin/downloads", async (c) => {
  const { email, limit } = parseInput(query, c.req.query());
  const rows = await listDownloads({
    ctx: c.get("ctx"),
    input: { limit, ...(email ? { email } : {}) },
  });
  return c.html(
    <DownloadsPage
      {...pageProps(c)}
      email={email}
      limit={limit}
      downloads={rows.map((d) => ({
        id: d.id,
        createdAt: d.created_at,
        product: d.product_slug,
        filename: d.filename,
        who: d.email ?? d.user_id,
        via: d.token_id ? "link" : "library",
        ip: d.ip,
        userAgent: d.user_agent,
      }))}
    />,
  );
});
