import { Hono } from "hono";
import { requireAdmin } from "../../core/context.ts";
import { publicImageUrl } from "../../core/images/publicImages.ts";
import {
  checkoutSettings,
  checkoutSettingsSchema,
  updateCheckoutSettings,
} from "../../core/shop/checkoutSettings.ts";
import {
  readShopProfile,
  removeShopLogo,
  type ShopProfile,
  setShopLogo,
  shopProfileSchema,
  updateShopProfile,
} from "../../core/shop/profile.ts";
import type { Unchecked } from "../../core/validate.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";

/** The shop's profile as the API gives it. */
export function shopJson(profile: ShopProfile, publicUrl: string) {
  return {
    name: profile.name,
    supportEmail: profile.supportEmail,
    timeZone: profile.timeZone,
    logoUrl: profile.logo ? `${publicUrl}${publicImageUrl(profile.logo)}` : null,
  };
}

/** The seller's settings of the shop: its name, support address, time zone and logo. */
export const adminShop = new Hono<HonoEnv>()
  .get(
    "/api/admin/shop",
    apiDoc({
      summary: "The shop's name, support address, time zone and logo",
      tag: "Shop",
      auth: "admin",
      response: "Shop",
    }),
    async (c) => {
      const ctx = c.get("ctx");
      requireAdmin(ctx);
      return c.json(shopJson(await readShopProfile(ctx), ctx.settings.publicUrl));
    },
  )
  .put(
    "/api/admin/shop",
    apiDoc({
      summary: "Save the shop's name, support address and time zone",
      description:
        "Every page and mail uses them from then on (other processes within a second). `supportEmail` empty or left out: none. `timeZone` is an IANA name such as Europe/Berlin; dates on pages and in mails are written in it.",
      tag: "Shop",
      auth: "admin",
      body: shopProfileSchema,
      response: "Shop",
      errors: ["invalid_input"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const profile = await updateShopProfile({ ctx, input: (await readBody(c)) as Unchecked });
      return c.json(shopJson(profile, ctx.settings.publicUrl));
    },
  )
  .put(
    "/api/admin/shop/logo",
    apiDoc({
      summary: "Set the shop's logo",
      description:
        "The body is the image's bytes: PNG, JPEG, WebP or GIF, told by the bytes themselves (SVG is refused), at most 512 KB. It is shown 28 pixels high beside the shop's name on every page and in every mail. A refused image changes nothing.",
      tag: "Shop",
      auth: "admin",
      rawBody: "The image's bytes.",
      response: "Shop",
      errors: ["too_large"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const declared = c.req.header("content-length");
      const profile = await setShopLogo({
        ctx,
        input: { body: c.req.raw.body, declaredSize: declared ? Number(declared) : null },
      });
      return c.json(shopJson(profile, ctx.settings.publicUrl));
    },
  )
  .delete(
    "/api/admin/shop/logo",
    apiDoc({
      summary: "Remove the shop's logo",
      tag: "Shop",
      auth: "admin",
      response: "Shop",
    }),
    async (c) => {
      const ctx = c.get("ctx");
      return c.json(shopJson(await removeShopLogo({ ctx }), ctx.settings.publicUrl));
    },
  )
  .get(
    "/api/admin/shop/checkout",
    apiDoc({
      summary: "What Stripe Checkout does for the shop: tax, tax IDs, invoices, promotion codes",
      tag: "Shop",
      auth: "admin",
      response: "CheckoutSettings",
    }),
    async (c) => {
      const ctx = c.get("ctx");
      requireAdmin(ctx);
      return c.json(await checkoutSettings(ctx));
    },
  )
  .patch(
    "/api/admin/shop/checkout",
    apiDoc({
      summary: "Turn Stripe Tax, tax ID collection, invoices or promotion codes on or off",
      description:
        "Each field left out stays as it is; until the seller saves one, CHECKOUT_AUTOMATIC_TAX, CHECKOUT_TAX_ID_COLLECTION, CHECKOUT_INVOICE_CREATION and CHECKOUT_PROMOTION_CODES give it. Checkouts started from then on carry `automatic_tax`, `tax_id_collection`, `invoice_creation` (one-time payments) and `allow_promotion_codes` exactly when they are on. `taxBehavior` says whether prices include tax (`inclusive`) or have it added (`exclusive`, the default); it applies with automatic tax.",
      tag: "Shop",
      auth: "admin",
      body: checkoutSettingsSchema,
      response: "CheckoutSettings",
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const input = (await readBody(c)) as Unchecked;
      return c.json(await updateCheckoutSettings({ ctx, input }));
    },
  );
