import { Hono } from "hono";
import { listDownloads } from "../../../core/downloads/listDownloads.ts";
import { parseInput } from "../../../core/validate.ts";
import * as z from "../../../core/zod.ts";
import { DownloadsPage } from "../../../pages/admin/downloads.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";

const query = z.object({
  email: z._default(z.string().check(z.trim(), z.maxLength(254)), ""),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
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
        productName: d.product_name,
        filename: d.filename,
        who: d.email ?? d.user_id,
        via: d.token_id ? "link" : "library",
        ip: d.ip,
        userAgent: d.user_agent,
      }))}
    />,
  );
});
