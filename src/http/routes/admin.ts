import { Hono } from "hono";
import { readOutbox } from "../../adapters/mail-outbox/index.ts";
import { listEntitlements, revokeEntitlement } from "../../core/access/entitlements.ts";
import { grantAsSeller, sellerGrantSchema } from "../../core/access/grantAsSeller.ts";
import {
  addAsset,
  assetActiveSchema,
  listAssets,
  setAssetActive,
} from "../../core/catalog/assets.ts";
import { removeProductCover, setProductCover } from "../../core/catalog/cover.ts";
import {
  createProduct,
  getProductForAdmin,
  listProducts,
  updateProduct,
} from "../../core/catalog/products.ts";
import { createProductSchema, updateProductSchema } from "../../core/catalog/schemas.ts";
import {
  abortUpload,
  abortUploadSchema,
  completeUpload,
  completeUploadSchema,
  putUploadPart,
  signUploadPart,
  signUploadPartSchema,
  startUpload,
  startUploadSchema,
  uploadStatus,
  uploadStatusSchema,
} from "../../core/catalog/uploads.ts";
import { requireAdmin } from "../../core/context.ts";
import { createTokenAsSeller, sellerTokenSchema } from "../../core/delivery/createTokenAsSeller.ts";
import { listDownloads } from "../../core/downloads/listDownloads.ts";
import { invalidInput, tooLarge } from "../../core/errors.ts";
import { listOrders } from "../../core/orders/listOrders.ts";
import { replayEvent } from "../../core/orders/reconcile.ts";
import { listWebhookEvents } from "../../core/orders/webhookEvents.ts";
import { limitSchema, type Unchecked } from "../../core/validate.ts";
import * as z from "../../core/zod.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { apiDoc } from "../openapi/describe.ts";
import { ordersCsvStream } from "../ordersCsv.ts";
import { assetJson, entitlementJson, iso, productJson } from "../serialize.ts";

/** The admin JSON API: ADMIN_TOKEN bearer, or the session of an email in ADMIN_EMAILS. */
export const admin = new Hono<HonoEnv>()
  .use("/api/admin/*", async (c, next) => {
    requireAdmin(c.get("ctx"));
    await next();
  })
  .get(
    "/api/admin/products",
    apiDoc({
      summary: "List every product, published or not",
      tag: "Products",
      auth: "admin",
      response: "Products",
    }),
    async (c) => {
      const products = await listProducts({
        ctx: c.get("ctx"),
        input: { includeUnpublished: true },
      });
      const { settings } = c.get("ctx");
      return c.json({ products: products.map((p) => productJson(p, settings)) });
    },
  )
  .post(
    "/api/admin/products",
    apiDoc({
      summary: "Create a product",
      tag: "Products",
      auth: "admin",
      body: createProductSchema,
      status: 201,
      response: "Product",
      errors: ["conflict"],
    }),
    async (c) => {
      const body = (await readBody(c)) as Unchecked;
      const product = await createProduct({ ctx: c.get("ctx"), input: body });
      return c.json(productJson(product, c.get("ctx").settings), 201);
    },
  )
  .get(
    "/api/admin/products/:slug",
    apiDoc({
      summary: "A product, with its files",
      tag: "Products",
      auth: "admin",
      params: { slug: "The product's slug." },
      response: "ProductWithAssets",
      errors: ["not_found"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
      const assets = await listAssets(ctx, product.id, { activeOnly: false });
      return c.json({
        ...productJson(product, ctx.settings),
        assets: assets.map(assetJson),
      });
    },
  )
  .patch(
    "/api/admin/products/:slug",
    apiDoc({
      summary: "Change a product",
      description: "Only the fields sent change.",
      tag: "Products",
      auth: "admin",
      params: { slug: "The product's slug." },
      body: updateProductSchema,
      response: "Product",
      errors: ["not_found"],
    }),
    async (c) => {
      const product = await updateProduct({
        ctx: c.get("ctx"),
        input: { slug: c.req.param("slug"), changes: (await readBody(c)) as Unchecked },
      });
      return c.json(productJson(product, c.get("ctx").settings));
    },
  )
  .put(
    "/api/admin/products/:slug/cover",
    apiDoc({
      summary: "Set a product's cover image",
      description:
        "The body is the image's bytes: PNG, JPEG, WebP or GIF, told by the bytes themselves (the Content-Type sent is not trusted; SVG is refused), at most 2 MB. The answer's `coverUrl` is public and permanent (`/images/{sha256}.{ext}`): a cover is shown to anyone, unlike the product's files. A refused image changes nothing.",
      tag: "Products",
      auth: "admin",
      params: { slug: "The product's slug." },
      rawBody: "The image's bytes.",
      response: "Product",
      errors: ["not_found", "too_large"],
    }),
    async (c) => {
      const declared = c.req.header("content-length");
      const product = await setProductCover({
        ctx: c.get("ctx"),
        input: {
          slug: c.req.param("slug"),
          body: c.req.raw.body,
          declaredSize: declared ? Number(declared) : null,
        },
      });
      return c.json(productJson(product, c.get("ctx").settings));
    },
  )
  .delete(
    "/api/admin/products/:slug/cover",
    apiDoc({
      summary: "Remove a product's cover image",
      tag: "Products",
      auth: "admin",
      params: { slug: "The product's slug." },
      response: "Product",
      errors: ["not_found"],
    }),
    async (c) => {
      const product = await removeProductCover({
        ctx: c.get("ctx"),
        input: { slug: c.req.param("slug") },
      });
      return c.json(productJson(product, c.get("ctx").settings));
    },
  )
  .get(
    "/api/admin/products/:slug/assets",
    apiDoc({
      summary: "A product's files, retired ones too",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug." },
      response: "Assets",
      errors: ["not_found"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
      return c.json({
        assets: (await listAssets(ctx, product.id, { activeOnly: false })).map(assetJson),
      });
    },
  )
  .post(
    "/api/admin/products/:slug/assets",
    apiDoc({
      summary: "Upload a file through the shop",
      description:
        "The body is the file's bytes; its Content-Type is kept (or guessed from the name). A newer file of the same name retires the older one. Past MAX_UPLOAD_SIZE: 413.",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug." },
      query: z.object({
        filename: z
          .string()
          .check(z.minLength(1), z.describe("The file's name, as buyers will see it.")),
      }),
      rawBody: "The file's bytes.",
      status: 201,
      response: "Asset",
      errors: ["not_found", "too_large"],
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const filename = c.req.query("filename");
      if (!filename) throw invalidInput("Give the file name as ?filename=NAME.");
      const declared = Number(c.req.header("content-length") ?? "0");
      if (declared > ctx.settings.maxUploadBytes) {
        throw tooLarge(
          `The file is larger than the upload limit of ${ctx.settings.maxUploadBytes} bytes.`,
        );
      }
      const body = c.req.raw.body;
      if (!body) throw invalidInput("The request has no body: send the file's bytes.");
      const asset = await addAsset({
        ctx,
        input: {
          productSlug: c.req.param("slug"),
          filename,
          contentType: c.req.header("content-type") ?? null,
          body,
        },
      });
      return c.json(assetJson(asset), 201);
    },
  )
  .post(
    "/api/admin/products/:slug/uploads",
    apiDoc({
      summary: "Start an upload straight to storage",
      description:
        "For large files: one presigned PUT, or multipart parts to PUT in any order; then complete it. Without direct uploads (local files, a Worker with only its R2 binding) the answer is the shop's own upload URL, or with `resumable` a `chunked` upload whose parts go through the shop.",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug." },
      body: z.omit(startUploadSchema, { productSlug: true }),
      status: 201,
      response: "Upload",
      errors: ["not_found", "too_large"],
    }),
    async (c) => {
      const started = await startUpload({
        ctx: c.get("ctx"),
        input: withParam(await readBody(c), { productSlug: c.req.param("slug") }),
      });
      if (started.kind === "local")
        return c.json({ uploadId: null, method: "POST", url: started.url }, 201);
      const expiresAt = iso(started.expiresAt);
      if (started.kind === "put") {
        const { kind, uploadId, url, headers } = started;
        return c.json({ uploadId, kind, method: "PUT", url, headers, expiresAt }, 201);
      }
      const { kind, uploadId, partSize, partCount } = started;
      const parts = started.kind === "multipart" ? started.parts : undefined;
      return c.json(
        { uploadId, kind, partSize, partCount, ...(parts ? { parts } : {}), expiresAt },
        201,
      );
    },
  )
  .post(
    "/api/admin/products/:slug/uploads/parts",
    apiDoc({
      summary: "Sign one part's upload URL",
      description:
        "Ask as each part starts: the URL works for an hour, so however long the whole upload takes, no URL expires on its way. Storage parts (`multipart`) go straight to storage without credentials; `chunked` parts go to the shop with the seller's.",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug." },
      body: z.omit(signUploadPartSchema, { productSlug: true }),
      response: "UploadPart",
      errors: ["not_found"],
    }),
    async (c) => {
      const part = await signUploadPart({
        ctx: c.get("ctx"),
        input: withParam(await readBody(c), { productSlug: c.req.param("slug") }),
      });
      return c.json({ ...part, expiresAt: iso(part.expiresAt) });
    },
  )
  .put(
    "/api/admin/products/:slug/uploads/parts/:partNumber",
    apiDoc({
      summary: "Send one part of a chunked upload through the shop",
      description:
        "For `chunked` uploads (local storage, or a Worker with only its R2 binding): the body is exactly the part's bytes. Sending a part again replaces it.",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug.", partNumber: "The part's number, from 1." },
      query: z.object({
        uploadId: z.string().check(z.minLength(1), z.describe("The upload's id.")),
      }),
      rawBody: "The part's bytes.",
      response: "UploadedPart",
      errors: ["not_found", "too_large"],
    }),
    async (c) => {
      const body = c.req.raw.body;
      if (!body) throw invalidInput("The request has no body: send the part's bytes.");
      const part = await putUploadPart({
        ctx: c.get("ctx"),
        input: {
          productSlug: c.req.param("slug"),
          uploadId: c.req.query("uploadId") ?? "",
          partNumber: c.req.param("partNumber"),
        } as unknown as Unchecked,
        body,
      });
      return c.json(part);
    },
  )
  .post(
    "/api/admin/products/:slug/uploads/status",
    apiDoc({
      summary: "Which parts of an upload have arrived",
      description:
        "To resume an upload that was interrupted: send only the parts missing here, then complete.",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug." },
      body: z.omit(uploadStatusSchema, { productSlug: true }),
      response: "UploadStatus",
      errors: ["not_found"],
    }),
    async (c) => {
      const status = await uploadStatus({
        ctx: c.get("ctx"),
        input: withParam(await readBody(c), { productSlug: c.req.param("slug") }),
      });
      return c.json({ ...status, expiresAt: iso(status.expiresAt) });
    },
  )
  .post(
    "/api/admin/products/:slug/uploads/complete",
    apiDoc({
      summary: "Complete an upload and record the file",
      description:
        "Give the ETag of each part of a multipart upload (a `resumable` upload may leave them out: the shop lists the parts that arrived). With `sha256`, the file in storage must have that hash, or nothing is published (422). Completing again answers the same file.",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug." },
      body: z.omit(completeUploadSchema, { productSlug: true }),
      status: 201,
      response: "Asset",
      errors: ["not_found", "conflict", "unprocessable"],
    }),
    async (c) => {
      const asset = await completeUpload({
        ctx: c.get("ctx"),
        input: withParam(await readBody(c), { productSlug: c.req.param("slug") }),
      });
      return c.json(assetJson(asset), 201);
    },
  )
  .post(
    "/api/admin/products/:slug/uploads/abort",
    apiDoc({
      summary: "Cancel an upload straight to storage",
      description:
        "Drops what was sent of an upload that was started and not completed: a multipart upload is aborted, an object already PUT removed. An upload already completed is a file of the product and stays (`aborted: false`).",
      tag: "Files",
      auth: "admin",
      params: { slug: "The product's slug." },
      body: z.omit(abortUploadSchema, { productSlug: true }),
      response: "UploadAborted",
      errors: ["not_found"],
    }),
    async (c) => {
      const result = await abortUpload({
        ctx: c.get("ctx"),
        input: withParam(await readBody(c), { productSlug: c.req.param("slug") }),
      });
      return c.json(result);
    },
  )
  .patch(
    "/api/admin/assets/:id",
    apiDoc({
      summary: "Retire or restore a file",
      description: "Buyers no longer see or download a retired file.",
      tag: "Files",
      auth: "admin",
      params: { id: "The file's id." },
      body: z.omit(assetActiveSchema, { assetId: true }),
      response: "Asset",
      errors: ["not_found"],
    }),
    async (c) => {
      const asset = await setAssetActive({
        ctx: c.get("ctx"),
        input: withParam(await readBody(c), { assetId: c.req.param("id") }),
      });
      return c.json(assetJson(asset));
    },
  )
  .get(
    "/api/admin/entitlements",
    apiDoc({
      summary: "List entitlements, newest first",
      tag: "Access",
      auth: "admin",
      query: z.object({
        email: z.optional(z.string().check(z.describe("Only this email's (or its user's)."))),
        product: z.optional(z.string().check(z.describe("Only this product's, by slug."))),
      }),
      response: "Entitlements",
    }),
    async (c) => {
      const entitlements = await listEntitlements({
        ctx: c.get("ctx"),
        input: {
          ...(c.req.query("email") ? { email: c.req.query("email") } : {}),
          ...(c.req.query("product") ? { productSlug: c.req.query("product") } : {}),
        },
      });
      return c.json({ entitlements: entitlements.map(entitlementJson) });
    },
  )
  .post(
    "/api/admin/grants",
    apiDoc({
      summary: "Give a product to an email",
      description:
        "It is in their library once they sign in with that address. Granting again is harmless, and turns a revoked grant back on.",
      tag: "Access",
      auth: "admin",
      body: sellerGrantSchema,
      status: 201,
      response: "Entitlement",
      errors: ["not_found"],
    }),
    async (c) => {
      const body = (await readBody(c)) as Unchecked;
      return c.json(entitlementJson(await grantAsSeller({ ctx: c.get("ctx"), input: body })), 201);
    },
  )
  .post(
    "/api/admin/entitlements/:id/revoke",
    apiDoc({
      summary: "Revoke an entitlement",
      tag: "Access",
      auth: "admin",
      params: { id: "The entitlement's id." },
      // No verb parses it: the reason is taken when it is text.
      body: z.object({
        reason: z.optional(z.string().check(z.describe("Why; kept with the entitlement."))),
      }),
      response: "Entitlement",
      errors: ["not_found"],
    }),
    async (c) => {
      const { reason } = await readBody(c);
      const entitlement = await revokeEntitlement({
        ctx: c.get("ctx"),
        input: { entitlementId: c.req.param("id"), reason },
      });
      return c.json(entitlementJson(entitlement));
    },
  )
  .post(
    "/api/admin/tokens",
    apiDoc({
      summary: "Create a download link",
      description:
        "For an email or a user id who owns the product; `expiresIn` as `24h`, `7d` or seconds. With `expiresAfterFirstUse` (same syntax) the link also ends that long after its first download, whichever comes first.",
      tag: "Download links",
      auth: "admin",
      body: sellerTokenSchema,
      status: 201,
      response: "DownloadLink",
      errors: ["not_found"],
    }),
    async (c) => {
      const body = (await readBody(c)) as Unchecked;
      const created = await createTokenAsSeller({ ctx: c.get("ctx"), input: body });
      return c.json(
        { token: created.token, url: created.url, expiresAt: iso(created.expiresAt) },
        201,
      );
    },
  )
  .get(
    "/api/admin/downloads",
    apiDoc({
      summary: "The download log, newest first",
      tag: "Orders and logs",
      auth: "admin",
      query: z.object({
        limit: limitSchema,
        email: z.optional(z.string().check(z.describe("Only this email's downloads."))),
      }),
      response: "Downloads",
      errors: ["invalid_input"],
    }),
    async (c) => {
      const rows = await listDownloads({
        ctx: c.get("ctx"),
        input: {
          limit: c.req.query("limit"),
          ...(c.req.query("email") ? { email: c.req.query("email") } : {}),
        },
      });
      return c.json({
        downloads: rows.map((d) => ({
          id: d.id,
          createdAt: iso(d.created_at),
          product: d.product_slug,
          assetId: d.asset_id,
          filename: d.filename,
          entitlementId: d.entitlement_id,
          email: d.email,
          userId: d.user_id,
          via: d.token_id ? "token" : "library",
          tokenId: d.token_id,
          ip: d.ip,
          userAgent: d.user_agent,
        })),
      });
    },
  )
  .get(
    "/api/admin/orders",
    apiDoc({
      summary: "Orders, newest first",
      tag: "Orders and logs",
      auth: "admin",
      query: z.object({
        limit: limitSchema,
        reference: z.optional(
          z.string().check(z.describe("An order's reference from its receipt (7KQ4M-2ZPXA)")),
        ),
      }),
      response: "Orders",
      errors: ["invalid_input"],
    }),
    async (c) => {
      const reference = c.req.query("reference");
      const orders = await listOrders({
        ctx: c.get("ctx"),
        input: { limit: c.req.query("limit"), ...(reference !== undefined ? { reference } : {}) },
      });
      return c.json({ orders });
    },
  )
  .get(
    "/api/admin/orders.csv",
    apiDoc({
      summary: "Every completed order as CSV, for the books",
      description:
        "One row per order, newest first: reference, order id, date, status, product, email, currency, and subtotal, discount, tax, total and net in major units (12.50), the buyer's country and tax IDs, the invoice and payment ids. Checkouts never completed are left out.",
      tag: "Orders and logs",
      auth: "admin",
      textResponse: { mediaType: "text/csv", description: "The orders, a header line first." },
    }),
    (c) => {
      const ctx = c.get("ctx");
      requireAdmin(ctx);
      const day = new Date(ctx.clock.now()).toISOString().slice(0, 10);
      return c.body(ordersCsvStream(ctx), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="orders-${day}.csv"`,
      });
    },
  )
  .get(
    "/api/admin/webhook-events",
    apiDoc({
      summary: "Stripe's events and how each was handled",
      tag: "Orders and logs",
      auth: "admin",
      query: z.object({ limit: limitSchema }),
      response: "WebhookEvents",
      errors: ["invalid_input"],
    }),
    async (c) => {
      const events = await listWebhookEvents({
        ctx: c.get("ctx"),
        input: { limit: c.req.query("limit") },
      });
      return c.json({ events });
    },
  )
  .post(
    "/api/admin/webhook-events/:id/replay",
    apiDoc({
      summary: "Handle a recorded Stripe event again",
      tag: "Orders and logs",
      auth: "admin",
      params: { id: "The Stripe event's id (evt_...)." },
      response: "Replay",
      errors: ["not_found"],
    }),
    async (c) => {
      const result = await replayEvent({
        ctx: c.get("ctx"),
        input: { eventId: c.req.param("id") },
      });
      return c.json({ id: c.req.param("id"), outcome: result.outcome });
    },
  )
  .get(
    "/api/admin/outbox",
    apiDoc({
      summary: "Mail kept in the outbox, newest first",
      description: "When mail goes to the outbox (no mail settings): the 100 newest messages.",
      tag: "Orders and logs",
      auth: "admin",
      query: z.object({
        to: z.optional(z.string().check(z.describe("Only mail to this address."))),
      }),
      response: "Outbox",
    }),
    async (c) => {
      const to = c.req.query("to");
      return c.json({
        messages: await readOutbox(c.get("deps").db, { limit: 100, ...(to ? { to } : {}) }),
      });
    },
  );

/** A body with the path's parameters on top, for the verb to parse as one input. */
const withParam = (body: Record<string, unknown>, params: Record<string, string>) =>
  ({ ...body, ...params }) as Unchecked;
