import { Hono, type MiddlewareHandler } from "hono";
import { forbidden } from "../../../core/errors.ts";
import type { HonoEnv } from "../../env.ts";
import { customerPages } from "./customers.tsx";
import { dashboardPages } from "./dashboard.tsx";
import { downloadLimitPages } from "./downloadLimits.tsx";
import { downloadPages } from "./downloads.tsx";
import { licensePages } from "./licenses.tsx";
import { orderPages } from "./orders.tsx";
import { productPages } from "./products.tsx";
import { releasePages } from "./releases.tsx";
import { settingsPages } from "./settings.tsx";
import { sharingPages } from "./sharing.tsx";
import { stampingPages } from "./stamping.tsx";
import { tokenPages } from "./tokens.tsx";
import { webhookPages } from "./webhooks.tsx";

/**
 * Admins only (an ADMIN_EMAILS session, or the ADMIN_TOKEN bearer). A signed-out visitor is sent
 * to sign in and brought back.
 */
const sellersOnly: MiddlewareHandler<HonoEnv> = async (c, next) => {
  const { actor } = c.get("ctx");
  if (!actor.admin) {
    if (!actor.user) {
      const back = c.req.method === "GET" ? c.req.path : "/admin";
      return c.redirect(`/auth/login?next=${encodeURIComponent(back)}`, 303);
    }
    throw forbidden(
      `${actor.user.email} is not a seller account. Seller pages are for the emails in ADMIN_EMAILS.`,
    );
  }
  c.header("Cache-Control", "private, no-store");
  await next();
};

/** The seller's pages under /admin. */
export const adminPages = new Hono<HonoEnv>()
  .use("/admin", sellersOnly)
  .use("/admin/*", sellersOnly)
  .route("/", dashboardPages)
  .route("/", productPages)
  .route("/", releasePages)
  .route("/", orderPages)
  .route("/", downloadLimitPages)
  .route("/", stampingPages)
  .route("/", customerPages)
  .route("/", licensePages)
  .route("/", tokenPages)
  .route("/", downloadPages)
  .route("/", sharingPages)
  .route("/", webhookPages)
  .route("/", settingsPages);
