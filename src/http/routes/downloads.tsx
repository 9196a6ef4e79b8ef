import { Hono } from "hono";
import { downloadAsUser } from "../../core/access/authorizeDownload.ts";
import { parseRange } from "../../core/delivery/range.ts";
import { downloadWithToken, inspectToken } from "../../core/delivery/tokens.ts";
import { forbidden, notFound } from "../../core/errors.ts";
import { TokenPage } from "../../pages/buyer.tsx";
import {
  bytesResponse,
  clientInfo,
  deliveryRequest,
  deliveryResponse,
  headResponse,
  unsatisfiableResponse,
} from "../delivery.ts";
import type { HonoEnv } from "../env.ts";
import { pageProps } from "../pageProps.ts";

export const downloads = new Hono<HonoEnv>()
  .use("/d/*", async (c, next) => {
    await next();
    // The token is in the URL: never hand it to another site in a Referer.
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
  })
  .get("/download/:slug/:assetId", async (c) => {
    const delivery = await downloadAsUser({
      ctx: c.get("ctx"),
      input: {
        slug: c.req.param("slug"),
        assetId: c.req.param("assetId"),
        request: deliveryRequest(c),
        client: clientInfo(c),
      },
    });
    return deliveryResponse(delivery);
  })
  .get("/d/:token", async (c) => {
    const token = c.req.param("token");
    const view = await inspectToken({ ctx: c.get("ctx"), input: { token } });
    const files = view.assets.map((a) => ({
      filename: a.filename,
      size: a.size,
      downloadUrl: `/d/${token}/${a.id}`,
    }));
    return c.html(
      <TokenPage
        {...pageProps(c)}
        product={view.product}
        files={files}
        expiresAt={view.token.expires_at}
        usesLeft={view.usesLeft}
      />,
    );
  })
  .get("/d/:token/:assetId", async (c) => {
    const delivery = await downloadWithToken({
      ctx: c.get("ctx"),
      input: {
        token: c.req.param("token"),
        assetId: c.req.param("assetId"),
        request: deliveryRequest(c),
        client: clientInfo(c),
      },
    });
    return deliveryResponse(delivery);
  })
  .get("/files/*", async (c) => {
    // Signed URLs of local storage; with S3 or R2 the store serves them itself.
    const store = c.get("deps").localFiles;
    if (!store) throw notFound("Not found.");
    const key = c.req.path.slice("/files/".length);
    const q = {
      exp: c.req.query("exp"),
      fn: c.req.query("fn"),
      ct: c.req.query("ct"),
      sig: c.req.query("sig"),
    };
    if (!store.verify(key, q)) throw forbidden("This download link has expired or is not valid.");
    const info = await store.head(key);
    if (!info) throw notFound("This file no longer exists.");
    const meta = { contentType: q.ct ?? "application/octet-stream", filename: q.fn ?? "download" };
    if (c.req.method === "HEAD") return headResponse(info.size, meta);
    const range = parseRange(c.req.header("range"), info.size);
    if (range.kind === "unsatisfiable") return unsatisfiableResponse(info.size);
    const object = await store.get(key, range.kind === "partial" ? range.range : undefined);
    if (!object) throw notFound("This file no longer exists.");
    return bytesResponse(object, meta);
  });
