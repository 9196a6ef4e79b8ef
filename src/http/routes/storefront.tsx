import { Hono } from "hono";
import { listProducts } from "../../core/catalog/products.ts";
import { viewProduct } from "../../core/catalog/viewProduct.ts";
import { ProductPage, StorefrontPage } from "../../pages/store.tsx";
import type { HonoEnv } from "../env.ts";
import { pageProps } from "../pageProps.ts";

export const storefront = new Hono<HonoEnv>()
  .get("/", async (c) => {
    const products = await listProducts({ ctx: c.get("ctx") });
    return c.html(<StorefrontPage {...pageProps(c)} products={products} />);
  })
  .get("/p/:slug", async (c) => {
    const view = await viewProduct({ ctx: c.get("ctx"), input: { slug: c.req.param("slug") } });
    const cancelled = c.req.query("checkout") === "cancelled";
    const claimSentTo =
      c.req.query("claim") === "sent" ? (c.req.query("email") ?? "").slice(0, 254) || null : null;
    return c.html(
      <ProductPage {...pageProps(c)} {...view} cancelled={cancelled} claimSentTo={claimSentTo} />,
    );
  });
