import { Hono } from "hono";
import {
  listReleases,
  publishRelease,
  publishReleaseSchema,
  type ReleaseWithProgress,
} from "../../core/releases/releases.ts";
import type { Unchecked } from "../../core/validate.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";
import { releaseJson } from "../serialize.ts";

/** A product's releases (issue 17; admin.ts's guard covers /api/admin/*). */
export const adminReleases = new Hono<HonoEnv>()
  .get(
    "/api/admin/products/:slug/releases",
    apiDoc({
      summary: "A product's releases, newest first",
      tag: "Products",
      auth: "admin",
      params: { slug: "The product's slug." },
      response: "Releases",
      errors: ["not_found"],
    }),
    async (c) => {
      const releases = await listReleases({
        ctx: c.get("ctx"),
        input: { slug: c.req.param("slug") },
      });
      return c.json({ releases: releases.map(sellerReleaseJson) });
    },
  )
  .post(
    "/api/admin/products/:slug/releases",
    apiDoc({
      summary: "Publish a release",
      description:
        "The release holds the product's active files at this moment and its manifest: every file's name, size and SHA-256, and what changed against the previous release (by file name: added, changed when its SHA-256 differs, removed). `notes` are Markdown. With `notify`, every buyer with access now gets one update mail, sent in the background; `notices` counts them.",
      tag: "Products",
      auth: "admin",
      params: { slug: "The product's slug." },
      body: publishReleaseSchema,
      status: 201,
      response: "Release",
      errors: ["invalid_input", "not_found", "conflict"],
    }),
    async (c) => {
      const release = await publishRelease({
        ctx: c.get("ctx"),
        input: { slug: c.req.param("slug"), release: (await readBody(c)) as Unchecked },
      });
      return c.json(sellerReleaseJson(release), 201);
    },
  );

/** The seller's view adds whether buyers were mailed and how far the mails are. */
const sellerReleaseJson = (r: ReleaseWithProgress) => ({
  ...releaseJson(r),
  notify: r.notify,
  notices: r.notices,
});
