import { Hono } from "hono";
import { readOutbox } from "../../adapters/mail-outbox/index.ts";
import { listEntitlements, revokeEntitlement } from "../../core/access/entitlements.ts";
import { grantAsSeller } from "../../core/access/grantAsSeller.ts";
import { addAsset, listAssets, setAssetActive } from "../../core/catalog/assets.ts";
import {
  createProduct,
  getProductForAdmin,
  listProducts,
  updateProduct,
} from "../../core/catalog/products.ts";
import { completeUpload, startUpload } from "../../core/catalog/uploads.ts";
import { requireAdmin } from "../../core/context.ts";
import { createTokenAsSeller } from "../../core/delivery/createTokenAsSeller.ts";
import { listDownloads } from "../../core/downloads/listDownloads.ts";
import { invalidInput, tooLarge } from "../../core/errors.ts";
import { listOrders } from "../../core/orders/listOrders.ts";
import { replayEvent } from "../../core/orders/reconcile.ts";
import { listWebhookEvents } from "../../core/orders/webhookEvents.ts";
import type { Unchecked } from "../../core/validate.ts";
import { readBody } from "../body.ts";
import type { HonoEnv } from "../env.ts";
import { assetJson, entitlementJson, iso, productJson } from "../serialize.ts";

/** The admin JSON API: ADMIN_TOKEN bearer, or the session of an email in ADMIN_EMAILS. */
export const admin = new Hono<HonoEnv>()
  .use("/api/admin/*", async (c, next) => {
    requireAdmin(c.get("ctx"));
    await next();
  })
  .get("/api/admin/products", async (c) => {
    const products = await listProducts({ ctx: c.get("ctx"), input: { includeUnpublished: true } });
    return c.json({ products: products.map(productJson) });
  })
  .post("/api/admin/products", async (c) => {
    const body = (await readBody(c)) as Unchecked;
    const product = await createProduct({ ctx: c.get("ctx"), input: body });
    return c.json(productJson(product), 201);
  })
  .get("/api/admin/products/:slug", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const assets = await listAssets(ctx, product.id, { activeOnly: false });
    return c.json({ ...productJson(product), assets: assets.map(assetJson) });
  })
  .patch("/api/admin/products/:slug", async (c) => {
    const product = await updateProduct({
      ctx: c.get("ctx"),
      input: { slug: c.req.param("slug"), changes: (await readBody(c)) as Unchecked },
    });
    return c.json(productJson(product));
  })
  .get("/api/admin/products/:slug/assets", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    return c.json({
      assets: (await listAssets(ctx, product.id, { activeOnly: false })).map(assetJson),
    });
  })
  .post("/api/admin/products/:slug/assets", async (c) => {
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
  })
  .post("/api/admin/products/:slug/uploads", async (c) => {
    const started = await startUpload({
      ctx: c.get("ctx"),
      input: withParam(await readBody(c), { productSlug: c.req.param("slug") }),
    });
    if (started.kind === "local")
      return c.json({ uploadId: null, method: "POST", url: started.url }, 201);
    const expiresAt = iso(started.expiresAt);
    if (started.kind === "put") {
      const { uploadId, url, headers } = started;
      return c.json({ uploadId, method: "PUT", url, headers, expiresAt }, 201);
    }
    const { uploadId, parts, partSize } = started;
    return c.json({ uploadId, parts, partSize, expiresAt }, 201);
  })
  .post("/api/admin/products/:slug/uploads/complete", async (c) => {
    const asset = await completeUpload({
      ctx: c.get("ctx"),
      input: withParam(await readBody(c), { productSlug: c.req.param("slug") }),
    });
    return c.json(assetJson(asset), 201);
  })
  .patch("/api/admin/assets/:id", async (c) => {
    const asset = await setAssetActive({
      ctx: c.get("ctx"),
      input: withParam(await readBody(c), { assetId: c.req.param("id") }),
    });
    return c.json(assetJson(asset));
  })
  .get("/api/admin/entitlements", async (c) => {
    const entitlements = await listEntitlements({
      ctx: c.get("ctx"),
      input: {
        ...(c.req.query("email") ? { email: c.req.query("email") } : {}),
        ...(c.req.query("product") ? { productSlug: c.req.query("product") } : {}),
      },
    });
    return c.json({ entitlements: entitlements.map(entitlementJson) });
  })
  .post("/api/admin/grants", async (c) => {
    const body = (await readBody(c)) as Unchecked;
    return c.json(entitlementJson(await grantAsSeller({ ctx: c.get("ctx"), input: body })), 201);
  })
  .post("/api/admin/entitlements/:id/revoke", async (c) => {
    const { reason } = await readBody(c);
    const entitlement = await revokeEntitlement({
      ctx: c.get("ctx"),
      input: { entitlementId: c.req.param("id"), reason },
    });
    return c.json(entitlementJson(entitlement));
  })
  .post("/api/admin/tokens", async (c) => {
    const body = (await readBody(c)) as Unchecked;
    const created = await createTokenAsSeller({ ctx: c.get("ctx"), input: body });
    return c.json(
      { token: created.token, url: created.url, expiresAt: iso(created.expiresAt) },
      201,
    );
  })
  .get("/api/admin/downloads", async (c) => {
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
  })
  .get("/api/admin/orders", async (c) => {
    const orders = await listOrders({
      ctx: c.get("ctx"),
      input: { limit: c.req.query("limit") },
    });
    return c.json({ orders });
  })
  .get("/api/admin/webhook-events", async (c) => {
    const events = await listWebhookEvents({
      ctx: c.get("ctx"),
      input: { limit: c.req.query("limit") },
    });
    return c.json({ events });
  })
  .post("/api/admin/webhook-events/:id/replay", async (c) => {
    const result = await replayEvent({ ctx: c.get("ctx"), input: { eventId: c.req.param("id") } });
    return c.json({ id: c.req.param("id"), outcome: result.outcome });
  })
  .get("/api/admin/outbox", async (c) => {
    const to = c.req.query("to");
    return c.json({
      messages: await readOutbox(c.get("deps").db, { limit: 100, ...(to ? { to } : {}) }),
    });
  });

/** A body with the path's parameters on top, for the verb to parse as one input. */
const withParam = (body: Record<string, unknown>, params: Record<string, string>) =>
  ({ ...body, ...params }) as Unchecked;
