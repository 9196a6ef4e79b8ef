import { Hono } from "hono";
import { getProductForAdmin, updateProduct } from "../../../core/catalog/products.ts";
import { resetDownloads } from "../../../core/downloads/resetDownloads.ts";
import { invalidInput } from "../../../core/errors.ts";
import { DownloadLimitRefusedPage } from "../../../pages/admin/downloadLimits.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, readForm, redirectDone } from "./forms.ts";

/** The seller's forms for download limits (decision 0021): a product's limit, an order's reset. */
export const downloadLimitPages = new Hono<HonoEnv>()
  .post("/admin/products/:slug/download-limit", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const typed = (await readForm(c)).downloadLimit ?? "";
    const saved = await attempt(() =>
      updateProduct({
        ctx,
        input: { slug: product.slug, changes: { downloadLimit: parseDownloadLimit(typed) } },
      }),
    );
    if (!saved.ok)
      return c.html(
        <DownloadLimitRefusedPage
          {...pageProps(c)}
          product={product}
          value={typed}
          error={saved.message}
        />,
        400,
      );
    return redirectDone(c, `/admin/products/${product.slug}`, "download-limit-saved");
  })
  .post("/admin/orders/:id/reset-downloads", async (c) => {
    const orderId = c.req.param("id");
    await resetDownloads({ ctx: c.get("ctx"), input: { orderId } });
    return redirectDone(c, `/admin/orders/${orderId}`, "downloads-reset");
  });

/** Empty means no limit; otherwise a whole number of downloads. */
function parseDownloadLimit(text: string): number | null {
  const typed = text.trim();
  if (!typed) return null;
  const limit = Number(typed);
  if (!/^\d+$/.test(typed) || limit < 1 || limit > 10_000)
    throw invalidInput(
      "Downloads per file per buyer: a whole number from 1 to 10000, or empty for no limit.",
    );
  return limit;
}
