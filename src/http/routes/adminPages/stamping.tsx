import { Hono } from "hono";
import { getProductForAdmin, updateProduct } from "../../../core/catalog/products.ts";
import type { HonoEnv } from "../../env.ts";
import { readForm, redirectDone } from "./forms.ts";

/** The seller's form for PDF stamping (decision 0026): on or off, and the choice on failure. */
export const stampingPages = new Hono<HonoEnv>().post(
  "/admin/products/:slug/stamping",
  async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const form = await readForm(c);
    await updateProduct({
      ctx,
      input: {
        slug: product.slug,
        changes: {
          stamp: {
            pdfs: form.pdfs === "on",
            onFailure: form.onFailure === "hold" ? "hold" : "original",
          },
        },
      },
    });
    return redirectDone(c, `/admin/products/${product.slug}`, "stamping-saved");
  },
);
