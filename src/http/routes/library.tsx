import { Hono } from "hono";
import { getLibrary } from "../../core/access/library.ts";
import { LibraryPage } from "../../pages/buyer.tsx";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";
import { pageProps } from "../pageProps.ts";

export const library = new Hono<HonoEnv>()
  .get(
    "/api/me",
    apiDoc({
      summary: "Who the credentials belong to",
      description: "Answers for anyone: `user` is null without a session.",
      tag: "Buyer",
      auth: "public",
      response: "Me",
    }),
    (c) => {
      const { actor } = c.get("ctx");
      return c.json({ user: actor.user, admin: actor.admin });
    },
  )
  .get("/library", async (c) => {
    if (!c.get("ctx").actor.user) return c.redirect("/auth/login?next=%2Flibrary", 303);
    const items = await getLibrary({ ctx: c.get("ctx") });
    return c.html(<LibraryPage {...pageProps(c)} items={items} />);
  })
  .get("/api/library", async (c) => {
    const items = await getLibrary({ ctx: c.get("ctx") });
    return c.json({
      items: items.map((item) => ({
        product: { slug: item.product.slug, name: item.product.name },
        accessEndsAt:
          item.entitlement.endsAt === null ? null : new Date(item.entitlement.endsAt).toISOString(),
        files: item.files.map((f) => ({
          id: f.id,
          filename: f.filename,
          size: f.size,
          sha256: f.sha256,
          version: f.version,
          downloadUrl: f.downloadUrl,
        })),
      })),
    });
  });
