import { Hono } from "hono";
import { notFound } from "../core/errors.ts";
import type { AppDeps, HonoEnv } from "./env.ts";
import { errorResponse } from "./errors.ts";
import { requestContext, sameOrigin } from "./middleware/context.ts";
import { responseHeaders } from "./middleware/headers.ts";
import { admin } from "./routes/admin.ts";
import { adminLicenses } from "./routes/adminLicenses.ts";
import { adminPages } from "./routes/adminPages/index.ts";
import { adminReleases } from "./routes/adminReleases.ts";
import { adminShop } from "./routes/adminShop.ts";
import { auth } from "./routes/auth.tsx";
import { checkout } from "./routes/checkout.tsx";
import { dev } from "./routes/dev.tsx";
import { downloads } from "./routes/downloads.tsx";
import { health } from "./routes/health.ts";
import { images } from "./routes/images.ts";
import { library } from "./routes/library.tsx";
import { licenses } from "./routes/licenses.ts";
import { openapi } from "./routes/openapi.ts";
import { storefront } from "./routes/storefront.tsx";
import { stripeWebhooks } from "./webhooks/stripe.ts";

/** The whole HTTP surface, the same on Node and Workers; `deps` are built once by the runtime. */
export function createApp(deps: AppDeps): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  app.use(responseHeaders(deps));
  app.use(requestContext(deps));
  app.use(sameOrigin(deps.settings.publicUrl));
  app.route("/", health);
  app.route("/", dev);
  app.route("/", storefront);
  app.route("/", images);
  app.route("/", checkout);
  app.route("/", stripeWebhooks);
  app.route("/", auth);
  app.route("/", library);
  app.route("/", downloads);
  app.route("/", openapi);
  app.route("/", licenses);
  app.route("/", admin);
  app.route("/", adminLicenses);
  app.route("/", adminReleases);
  app.route("/", adminShop);
  app.route("/", adminPages);
  app.notFound((c) => errorResponse(notFound("There is nothing at this address."), c));
  app.onError((error, c) => errorResponse(error, c));
  return app;
}
