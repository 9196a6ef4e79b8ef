import { type Context, Hono } from "hono";
import {
  checkoutReceipt,
  getLibrary,
  type LibraryItem,
  type OrderReceipt,
  orderReceipt,
} from "../../core/access/library.ts";
import { type BuyerLicense, myLicenses } from "../../core/licenses/buyerLicenses.ts";
import { applyEmailCorrections, recentlyCorrected } from "../../core/orders/emailCorrections.ts";
import { LibraryPage, NoReceiptPage } from "../../pages/buyer.tsx";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";
import { pageProps } from "../pageProps.ts";
import { releaseJson } from "../serialize.ts";

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
    const ctx = c.get("ctx");
    const user = ctx.actor.user;
    if (!user) return c.redirect("/auth/login?next=%2Flibrary", 303);
    // A bounced receipt's correction waiting for this address (decision 0024): the sign-in
    // already moved it (built-in); with Supabase, whose sign-in we do not see, it moves here.
    await applyEmailCorrections(ctx, user);
    const { items, ended } = await getLibrary({ ctx });
    const licenses = await myLicenses({ ctx });
    const sent = c.req.query("sent");
    const moved = c.req.query("corrected") ? await recentlyCorrected(ctx, user.id) : [];
    const notice =
      sent === "receipt"
        ? `We sent your receipt again to ${user.email}.`
        : sent === "link"
          ? `A fresh download link is on its way to ${user.email}.`
          : moved.length
            ? `${moved.map((m) => m.productName).join(", ")} now belongs to ${user.email}. A new receipt is on its way.`
            : null;
    return c.html(
      <LibraryPage
        {...pageProps(c)}
        notice={notice}
        items={items}
        ended={ended}
        licenses={licenses}
        freed={c.req.query("freed") === "1"}
      />,
    );
  })
  .get("/library/orders/:orderId/receipt", async (c) => {
    const receipt = await orderReceipt({
      ctx: c.get("ctx"),
      input: { orderId: c.req.param("orderId") },
    });
    return receiptAnswer(c, receipt, { url: "/library", label: "Back to your library" });
  })
  .get("/checkout/receipt", async (c) => {
    // The success page's guest buyer: the checkout session id is the proof, as for its downloads.
    const sessionId = c.req.query("session_id") ?? "";
    c.header("Referrer-Policy", "no-referrer");
    const receipt = await checkoutReceipt({ ctx: c.get("ctx"), input: { sessionId } });
    return receiptAnswer(c, receipt, {
      url: `/checkout/success?session_id=${encodeURIComponent(sessionId)}`,
      label: "Back to your purchase",
    });
  })
  .get(
    "/api/library",
    apiDoc({
      summary: "What the signed-in buyer owns",
      description:
        "Each product with its files, the buyer's licence key and its releases: the current one, earlier ones and the link to download only what changed.",
      tag: "Buyer",
      auth: "buyer",
      response: "Library",
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const { items } = await getLibrary({ ctx });
      const licenses = await myLicenses({ ctx });
      return c.json({
        items: items.map((item) => ({
          product: { slug: item.product.slug, name: item.product.name },
          accessEndsAt:
            item.entitlement.endsAt === null
              ? null
              : new Date(item.entitlement.endsAt).toISOString(),
          license: licenseJson(licenseOf(item, licenses)),
          files: item.files.map((f) => ({
            id: f.id,
            filename: f.filename,
            size: f.size,
            sha256: f.sha256,
            version: f.version,
            downloadUrl: f.downloadUrl,
            downloadsLeft: f.downloadsLeft ?? null,
          })),
          releases: item.releases
            ? {
                current: releaseJson(item.releases.current),
                earlier: item.releases.earlier.map(releaseJson),
                changesUrl: item.releases.changesUrl,
              }
            : null,
        })),
      });
    },
  );

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

/** 303 to the provider's receipt or invoice page, or the page saying there is none. */
function receiptAnswer(
  c: Context<HonoEnv>,
  receipt: OrderReceipt,
  back: { url: string; label: string },
): Response | Promise<Response> {
  c.header("Cache-Control", "private, no-store");
  if (receipt.url !== null) return c.redirect(receipt.url, 303);
  return c.html(<NoReceiptPage {...pageProps(c)} order={receipt.order} back={back} />);
}
