import { type Context, Hono } from "hono";
import { requireAdmin } from "../../../core/context.ts";
import { sharingSettings } from "../../../core/downloads/sharing.ts";
import { AppError } from "../../../core/errors.ts";
import { checkoutSettings, updateCheckoutSettings } from "../../../core/shop/checkoutSettings.ts";
import {
  MAX_LOGO_BYTES,
  removeShopLogo,
  setShopLogo,
  updateShopProfile,
} from "../../../core/shop/profile.ts";
import type { Unchecked } from "../../../core/validate.ts";
import { SettingsPage, type ShopForm } from "../../../pages/admin/settings.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

const NOTICES = {
  shop: "Shop settings saved. Pages and mails use them from now on.",
  logo: "Logo saved.",
  "logo-removed": "Logo removed.",
  sharing: "Sharing detection saved. Downloads follow it from now on.",
  checkout: "Checkout settings saved. Checkouts started from now on use them.",
};

/** Every zone this runtime knows (Node and Workers carry the full list), UTC first. */
const timeZones = (): string[] => [
  "UTC",
  ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC"),
];

export async function settingsPage(
  c: Context<HonoEnv>,
  errors: {
    shopError?: { message: string; form: ShopForm };
    logoError?: string;
    sharingError?: string;
    checkoutError?: string;
  } = {},
  status: 200 | 400 | 413 = 200,
) {
  requireAdmin(c.get("ctx"));
  const diagnosis = (await c.get("deps").diagnose?.()) ?? null;
  const [sharing, checkout] = await Promise.all([
    sharingSettings(c.get("ctx")),
    checkoutSettings(c.get("ctx")),
  ]);
  return c.html(
    <SettingsPage
      {...pageProps(c)}
      notice={noticeFor(c, NOTICES)}
      diagnosis={diagnosis}
      timeZones={timeZones()}
      sharing={sharing}
      checkout={checkout}
      {...errors}
    />,
    status,
  );
}

export const settingsPages = new Hono<HonoEnv>()
  .get("/admin/settings", (c) => settingsPage(c))
  .post("/admin/settings/shop", async (c) => {
    const ctx = c.get("ctx");
    requireAdmin(ctx);
    const body = await readForm(c);
    const form = {
      name: body.name ?? "",
      supportEmail: body.supportEmail ?? "",
      timeZone: body.timeZone ?? "",
    };
    const saved = await attempt(() => updateShopProfile({ ctx, input: form }));
    if (!saved.ok) {
      // The page reads the shop as it was: show the form again with what was typed.
      return settingsPage(c, { shopError: { message: saved.message, form } }, 400);
    }
    // The layout of the next page shows the new name at once (this process forgot its copy).
    return redirectDone(c, "/admin/settings", "shop");
  })
  .post("/admin/settings/logo", async (c) => {
    const ctx = c.get("ctx");
    requireAdmin(ctx);
    // The form's own overhead comes on top of the image: refuse what cannot fit before reading.
    if (Number(c.req.header("content-length") ?? "0") > MAX_LOGO_BYTES + 64 * 1024)
      return settingsPage(c, { logoError: LOGO_TOO_LARGE }, 413);
    const file = await c.req
      .formData()
      .then((form) => form.get("logo"))
      .catch(() => null);
    if (!(file instanceof File) || file.size === 0)
      return settingsPage(c, { logoError: "Choose an image file to upload." }, 400);
    try {
      await setShopLogo({ ctx, input: { body: file.stream(), declaredSize: file.size } });
    } catch (error) {
      if (error instanceof AppError && error.code === "invalid_input")
        return settingsPage(c, { logoError: error.message }, 400);
      if (error instanceof AppError && error.code === "too_large")
        return settingsPage(c, { logoError: LOGO_TOO_LARGE }, 413);
      throw error;
    }
    return redirectDone(c, "/admin/settings", "logo");
  })
  .post("/admin/settings/checkout", async (c) => {
    const ctx = c.get("ctx");
    const body = await readForm(c);
    // An unticked switch is absent from the form: it is saved off. Anything else typed is the
    // verb's to refuse, and then nothing is saved.
    const on = (name: string) => body[name] ?? "off";
    const input: Record<string, unknown> = {
      automaticTax: on("automaticTax"),
      taxIdCollection: on("taxIdCollection"),
      invoiceCreation: on("invoiceCreation"),
      promotionCodes: on("promotionCodes"),
      taxBehavior: body.taxBehavior ?? "",
    };
    const saved = await attempt(() => updateCheckoutSettings({ ctx, input: input as Unchecked }));
    if (!saved.ok) return settingsPage(c, { checkoutError: saved.message }, 400);
    return redirectDone(c, "/admin/settings", "checkout");
  })
  .post("/admin/settings/logo/remove", async (c) => {
    await removeShopLogo({ ctx: c.get("ctx") });
    return redirectDone(c, "/admin/settings", "logo-removed");
  });

const LOGO_TOO_LARGE = `The logo is larger than ${MAX_LOGO_BYTES / 1024} KB. Save it smaller (it is shown 28 pixels high) and upload it again.`;
