import { makeZip, predictLength } from "client-zip";
import { Hono } from "hono";
import { contentDisposition } from "../../core/contentDisposition.ts";
import { requestFreshLink } from "../../core/delivery/freshLink.ts";
import { parseRange } from "../../core/delivery/range.ts";
import { inspectToken, invalidLink, usedUp } from "../../core/delivery/tokens.ts";
import {
  type DownloadAll,
  downloadAllAsUser,
  downloadAllWithCheckout,
} from "../../core/downloads/downloadAll.ts";
import { downloadAsUser } from "../../core/downloads/downloadAsUser.ts";
import { downloadWithToken } from "../../core/downloads/downloadWithToken.ts";
import { forbidden, notFound } from "../../core/errors.ts";
import { downloadChangesAsUser } from "../../core/releases/changesZip.ts";
import { TokenPage } from "../../pages/buyer.tsx";
import { ExpiredTokenPage, FreshLinkSentPage } from "../../pages/freshLink.tsx";
import { readBody } from "../body.ts";
import {
  bytesResponse,
  clientInfo,
  deliveryRequest,
  deliveryResponse,
  headResponse,
  unsatisfiableResponse,
} from "../delivery.ts";
import type { HonoEnv } from "../env.ts";
import { wantsHtml } from "../errors.ts";
import { isWhole } from "../middleware/headers.ts";
import { pageProps } from "../pageProps.ts";

export const downloads = new Hono<HonoEnv>()
  .use("/d/*", async (c, next) => {
    await next();
    // The token is in the URL: never hand it to another site in a Referer (downloads built
    // whole carry these already).
    if (isWhole(c.res)) return;
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "private, no-store");
  })
  .get("/library/:slug/all.zip", async (c) => {
    const all = await downloadAllAsUser({
      ctx: c.get("ctx"),
      input: { slug: c.req.param("slug"), client: clientInfo(c) },
    });
    return zipResponse(all, c.req.method === "HEAD");
  })
  .get("/library/:slug/releases/:version/changes.zip", async (c) => {
    // A release's added and changed files against an earlier one (?since=), as one zip.
    const all = await downloadChangesAsUser({
      ctx: c.get("ctx"),
      input: {
        slug: c.req.param("slug"),
        version: c.req.param("version"),
        since: c.req.query("since") ?? "",
        client: clientInfo(c),
      },
    });
    return zipResponse(all, c.req.method === "HEAD");
  })
  .get("/checkout/all.zip", async (c) => {
    // The success page's guest buyer: the checkout session id proves the purchase, as for
    // /checkout/download/{assetId}.
    const all = await downloadAllWithCheckout({
      ctx: c.get("ctx"),
      input: { sessionId: c.req.query("session_id") ?? "", client: clientInfo(c) },
    });
    return zipResponse(all, c.req.method === "HEAD");
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
    return deliveryResponse(c, delivery);
  })
  .get("/d/:token", async (c) => {
    const token = c.req.param("token");
    const view = await inspectToken({ ctx: c.get("ctx"), input: { token } });
    if (view.state !== "usable") {
      // Programs get the same 410 as before; people get the page that offers a fresh link.
      if (!wantsHtml(c)) throw view.state === "expired" ? invalidLink() : usedUp();
      return c.html(
        <ExpiredTokenPage
          {...pageProps(c)}
          productName={view.product.name}
          reason={view.state}
          action={`/d/${token}/fresh`}
        />,
        410,
      );
    }
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
        worksAfterFirstUse={view.worksAfterFirstUse}
      />,
    );
  })
  .post("/d/:token/fresh", async (c) => {
    const body = await readBody(c);
    const ctx = c.get("ctx");
    const { email } = await requestFreshLink({
      ctx,
      input: { token: c.req.param("token"), email: body.email, ip: c.get("deps").clientIp(c) },
    });
    // The same answer whatever happened: it never tells whether the address has access.
    if (wantsHtml(c)) {
      return c.html(
        <FreshLinkSentPage
          {...pageProps(c)}
          email={email}
          linkTtlSeconds={ctx.settings.delivery.tokenTtlSeconds}
        />,
      );
    }
    return c.json(
      { status: "sent", message: "If that address has access, a fresh link is on its way to it." },
      202,
    );
  })
  .get("/d/:token/fresh", (c) => c.redirect(`/d/${encodeURIComponent(c.req.param("token"))}`, 303))
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
    return deliveryResponse(c, delivery);
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

/**
 * The purchase's files as one zip, built while it streams: each file is opened (and logged) when
 * the archive reaches it and passed through chunk by chunk, stored as is (files are mostly
 * compressed already; stored entries keep the length known, so the answer has a Content-Length
 * and the browser a progress bar). Only the archive's list of names and sizes is held.
 */
function zipResponse(all: DownloadAll, headOnly: boolean): Response {
  const length = predictLength(
    all.entries.map((e) => ({ name: e.name, size: e.size, lastModified: e.lastModified })),
  );
  const headers = {
    "Content-Type": "application/zip",
    "Content-Disposition": contentDisposition(all.filename),
    "Content-Length": String(length),
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
  };
  if (headOnly) return new Response(null, { headers });
  return new Response(makeZip(entriesAsOpened(all), { buffersAreUTF8: true }), { headers });
}

/**
 * The entries for client-zip, each file opened only when the zip asks for it. When the download
 * stops early (the client went away), the file being read is cancelled, which gives its unsent
 * bytes back as a broken-off single download would (downloads/continuations.ts).
 */
async function* entriesAsOpened(all: DownloadAll) {
  let reading: ReadableStreamDefaultReader<Uint8Array> | null = null;
  try {
    for (const entry of all.entries) {
      const reader = (await entry.open()).getReader();
      reading = reader;
      const input = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) controller.close();
            else controller.enqueue(value);
          },
          cancel: (reason) => reader.cancel(reason),
        },
        { highWaterMark: 0 },
      );
      yield { name: entry.name, size: entry.size, lastModified: entry.lastModified, input };
    }
    reading = null;
  } finally {
    await reading?.cancel().catch(() => {});
  }
}
