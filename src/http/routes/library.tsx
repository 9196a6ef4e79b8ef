import { Hono } from "hono";
import { getLibrary, type LibraryItem } from "../../core/access/library.ts";
import { type BuyerLicense, myLicenses } from "../../core/licenses/buyerLicenses.ts";
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
    const ctx = c.get("ctx");
    const { items, ended } = await getLibrary({ ctx });
    const licenses = await myLicenses({ ctx });
    return c.html(
      <LibraryPage
        {...pageProps(c)}
        items={items}
        ended={ended}
        licenses={licenses}
        freed={c.req.query("freed") === "1"}
      />,
    );
  })
  .get("/api/library", async (c) => {
    const ctx = c.get("ctx");
    const { items } = await getLibrary({ ctx });
    const licenses = await myLicenses({ ctx });
    return c.json({
      items: items.map((item) => ({
        product: { slug: item.product.slug, name: item.product.name },
        accessEndsAt:
          item.entitlement.endsAt === null ? null : new Date(item.entitlement.endsAt).toISOString(),
        license: licenseJson(licenseOf(item, licenses)),
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

/**
 * The item's key: of the buyer's keys to its product (one per purchase), one that works, else
 * the newest.
 */
function licenseOf(item: LibraryItem, licenses: BuyerLicense[]): BuyerLicense | undefined {
  const keys = licenses.filter((l) => l.product.slug === item.product.slug);
  return keys.find((l) => l.status === "active") ?? keys[0];
}

const licenseJson = (l: BuyerLicense | undefined) =>
  l
    ? {
        id: l.id,
        key: l.key,
        status: l.status,
        activationLimit: l.activationLimit,
        activations: l.activations,
      }
    : null;
