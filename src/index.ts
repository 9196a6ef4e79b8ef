/**
 * Tollgate as a library: the core verbs, for scripts and apps that embed the shop's rules.
 * Each verb is `verb({ ctx, input })`; build `ctx` with `buildNodeRuntime(parseConfig(env)).systemCtx`.
 */
export { parseConfig } from "./config.ts";
export { claimFree } from "./core/access/claimFree.ts";
export { grantAccess, listEntitlements, revokeEntitlement } from "./core/access/entitlements.ts";
export { getLibrary } from "./core/access/library.ts";
export { addAsset, setAssetActive } from "./core/catalog/assets.ts";
export { createProduct, getProduct, listProducts, updateProduct } from "./core/catalog/products.ts";
export { createDownloadToken, inspectToken } from "./core/delivery/tokens.ts";
export { authorizeDownload, downloadAsUser } from "./core/downloads/downloadAsUser.ts";
export { downloadWithCheckout } from "./core/downloads/downloadWithCheckout.ts";
export { downloadWithToken } from "./core/downloads/downloadWithToken.ts";
export { AppError } from "./core/errors.ts";
export { createApp } from "./http/app.ts";
export { buildNodeRuntime } from "./runtime/node.ts";
