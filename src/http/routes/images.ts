import { Hono } from "hono";
import { notFound, rateLimited } from "../../core/errors.ts";
import { readPublicImage } from "../../core/images/publicImages.ts";
import type { HonoEnv } from "../env.ts";
import { wholeResponse } from "../middleware/headers.ts";

/**
 * Requests a minute one client may make for images: a store page shows a cover per product and
 * browsers keep them (immutable), so a person stays far below; a script pulling images in a loop
 * does not. Counted in this process's memory like the licence API's limits (decision 0015).
 */
const PER_CLIENT_PER_MINUTE = 600;

/**
 * Public images (core/images/publicImages.ts): a product's cover, the shop's logo. Never a paid
 * file: those only leave through the delivery paths. An id names its bytes, so the answer is
 * cached for good; an unknown id and a malformed one get the same 404.
 */
export const images = new Hono<HonoEnv>().get("/images/:id", async (c) => {
  const ctx = c.get("ctx");
  const client = c.get("deps").clientIp(c);
  if (client) {
    const wait = ctx.counters.hit(`images:client:${client}`, PER_CLIENT_PER_MINUTE, 60);
    if (wait !== null) throw rateLimited(`Too many requests. Try again in ${wait} seconds.`, wait);
  }
  const id = c.req.param("id");
  const etag = `"${id}"`;
  const headers = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    // Opened on its own, an image runs nothing and reaches nothing.
    "Content-Security-Policy":
      "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    // Meant to be shown anywhere, mails and other sites included.
    "Cross-Origin-Resource-Policy": "cross-origin",
    ETag: etag,
  };
  const image = await readPublicImage(ctx, id);
  if (!image) throw notFound("There is no such image.");
  if (c.req.header("if-none-match") === etag) {
    await image.body.cancel().catch(() => {});
    return wholeResponse(c, 304, headers);
  }
  return wholeResponse(
    c,
    200,
    { ...headers, "Content-Type": image.contentType, "Content-Length": String(image.size) },
    image.body,
  );
});
