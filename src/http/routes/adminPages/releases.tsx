import { type Context, Hono } from "hono";
import { getProductForAdmin } from "../../../core/catalog/products.ts";
import { listReleases, publishRelease } from "../../../core/releases/releases.ts";
import { type ReleaseFormValues, ReleasesPage } from "../../../pages/admin/releases.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

const NOTICES = {
  published: "Release published.",
  "published-mailing": "Release published: its update mails are on their way (progress below).",
};

const EMPTY: ReleaseFormValues = { version: "", notes: "", notify: false };

async function page(
  c: Context<HonoEnv>,
  values: ReleaseFormValues,
  error: string | null,
  status: 200 | 400 = 200,
) {
  const ctx = c.get("ctx");
  const slug = c.req.param("slug") as string;
  const [product, releases] = await Promise.all([
    getProductForAdmin({ ctx, input: { slug } }),
    listReleases({ ctx, input: { slug } }),
  ]);
  return c.html(
    <ReleasesPage
      {...pageProps(c)}
      notice={noticeFor(c, NOTICES)}
      product={product}
      releases={releases}
      values={values}
      error={error}
    />,
    status,
  );
}

/** /admin/products/{slug}/releases: publish and follow a product's releases. */
export const releasePages = new Hono<HonoEnv>()
  .get("/admin/products/:slug/releases", (c) => page(c, EMPTY, null))
  .post("/admin/products/:slug/releases", async (c) => {
    const form = await readForm(c);
    const values = {
      version: form.version ?? "",
      notes: form.notes ?? "",
      notify: form.notify === "true",
    };
    const slug = c.req.param("slug");
    const done = await attempt(() =>
      publishRelease({ ctx: c.get("ctx"), input: { slug, release: values } }),
    );
    if (!done.ok) return page(c, values, done.message, 400);
    return redirectDone(
      c,
      `/admin/products/${slug}/releases`,
      values.notify ? "published-mailing" : "published",
    );
  });
