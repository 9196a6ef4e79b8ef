import type { Asset, DeliveryToken, Entitlement, Product } from "../../db/schema.ts";
import {
  accessOfEach,
  denialReason,
  type Holder,
  isActive,
  requireAccess,
} from "../access/accessRule.ts";
import { downloadableAsset } from "../catalog/assets.ts";
import { productById } from "../catalog/products.ts";
import {
  type Ctx,
  db,
  newId,
  normalizeEmail,
  requireAdmin,
  sha256Hex,
  sharedWrite,
} from "../context.ts";
import { parseDuration } from "../duration.ts";
import { toBase64Url } from "../encoding.ts";
import { type AppError, forbidden, gone, invalidInput, isAppError } from "../errors.ts";
import { cachedRead } from "../readCache.ts";

const PREFIX = "tgd_";
const TOKEN_SHAPE = /^tgd_[A-Za-z0-9_-]{43}$/;

export interface CreateDownloadTokenInput {
  userId?: string;
  email?: string;
  productId: string;
  assetId?: string;
  /** `"24h"`, `"7d"`, `"90m"` or seconds; the configured default when absent. */
  expiresIn?: string | number;
  /** The same syntax: the link also ends this long after its first use (whichever is first). */
  expiresAfterFirstUse?: string | number | null;
  maxUses?: number | null;
}

export interface CreatedToken {
  id: string;
  token: string;
  url: string;
  expiresAt: number;
  maxUses: number | null;
  /** Seconds the link works from its first use; null: only expiresAt ends it. */
  expiresAfterFirstUse: number | null;
}

/**
 * A link that downloads a product's files without signing in, for whoever holds an active
 * entitlement to it. The token is 256 random bits; only its SHA-256 is stored.
 */
export async function createDownloadToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: CreateDownloadTokenInput;
}): Promise<CreatedToken> {
  requireAdmin(ctx);
  const holder = holderOfLink(input);
  const terms = linkTerms(ctx, input);
  const entitlement = await requireAccess(ctx, holder, input.productId);
  if (input.assetId) {
    await downloadableAsset(ctx, input.productId, input.assetId);
  }
  const [created] = await storeLinks(ctx, [
    await newLink(ctx, entitlement.id, input.assetId ?? null, terms),
  ]);
  return created as CreatedToken;
}

/**
 * createDownloadToken for several links to whole products at once (a batch of receipts): their
 * access read in one query, their rows stored in one statement. For each input, in order: its
 * link, or the error createDownloadToken would throw for it (no access any more, a bad input). A
 * failure of the database throws, and then none was made.
 */
export async function createDownloadTokens({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: Omit<CreateDownloadTokenInput, "assetId">[];
}): Promise<(CreatedToken | AppError)[]> {
  requireAdmin(ctx);
  type Ask = { holder: Holder; productId: string; terms: LinkTerms };
  // Each link's holder and terms, or why it cannot have one.
  const asked = input.map((link): Ask | AppError => {
    try {
      return { holder: holderOfLink(link), productId: link.productId, terms: linkTerms(ctx, link) };
    } catch (error) {
      if (isAppError(error)) return error;
      throw error;
    }
  });
  const valid = asked.filter((a): a is Ask => !isAppError(a));
  const access = valid.length ? await accessOfEach(ctx, valid) : [];
  const made = await Promise.all(
    asked.map(async (a): Promise<NewLink | AppError> => {
      if (isAppError(a)) return a;
      const entitlement = access[valid.indexOf(a)] as Entitlement | AppError;
      return isAppError(entitlement) ? entitlement : newLink(ctx, entitlement.id, null, a.terms);
    }),
  );
  const stored = await storeLinks(
    ctx,
    made.filter((m): m is NewLink => !isAppError(m)),
  );
  return made.map((m) => (isAppError(m) ? m : (stored.shift() as CreatedToken)));
}

/** Who a link is for: a user id, or an email (normalized); one of them is needed. */
function holderOfLink(input: { userId?: string; email?: string }): Holder {
  const email = input.email ? normalizeEmail(input.email) : null;
  if (!email && !input.userId) throw invalidInput("A download link needs an email or a user id.");
  return { userId: input.userId ?? null, email };
}

/**
 * How long a link lasts (seconds), how long from its first use, and how many uses it allows: the
 * shop's defaults when absent (no window from the first use).
 */
interface LinkTerms {
  ttl: number;
  afterFirstUse: number | null;
  maxUses: number | null;
}

const YEAR_SECONDS = 365 * 86400;

function linkTerms(
  ctx: Ctx,
  input: Pick<CreateDownloadTokenInput, "expiresIn" | "expiresAfterFirstUse" | "maxUses">,
): LinkTerms {
  const ttl =
    input.expiresIn === undefined
      ? ctx.settings.delivery.tokenTtlSeconds
      : parseDuration(input.expiresIn);
  if (ttl === null || ttl > YEAR_SECONDS) {
    throw invalidInput("expiresIn must be a duration like 90m, 24h or 7d (at most a year).");
  }
  const window = input.expiresAfterFirstUse ?? null;
  const afterFirstUse = window === null ? null : parseDuration(window);
  if (window !== null && (afterFirstUse === null || afterFirstUse > YEAR_SECONDS)) {
    throw invalidInput(
      "expiresAfterFirstUse must be a duration like 90m, 72h or 7d (at most a year).",
    );
  }
  const maxUses = input.maxUses === undefined ? ctx.settings.delivery.tokenMaxUses : input.maxUses;
  if (maxUses !== null && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 1_000_000)) {
    throw invalidInput("maxUses must be a whole number of at least 1.");
  }
  return { ttl, afterFirstUse, maxUses };
}

/** A link made but not stored yet: the token (given out once) and the row that keeps its hash. */
interface NewLink {
  token: string;
  row: Omit<DeliveryToken, "uses" | "first_used_at">;
}

/** The one place a link's row is made: what is stored of it (only the token's hash), and when it ends. */
async function newLink(
  ctx: Ctx,
  entitlementId: string,
  assetId: string | null,
  terms: LinkTerms,
): Promise<NewLink> {
  const token = PREFIX + toBase64Url(ctx.crypto.randomBytes(32));
  const now = ctx.clock.now();
  return {
    token,
    row: {
      id: newId(ctx, "tok"),
      token_hash: await sha256Hex(ctx, token),
      entitlement_id: entitlementId,
      asset_id: assetId,
      expires_at: now + terms.ttl * 1000,
      max_uses: terms.maxUses,
      revoked_at: null,
      created_at: now,
      expires_after_first_use: terms.afterFirstUse,
    },
  };
}

/** Stores new links, all in one statement, and says so for each: as their creator gets them. */
async function storeLinks(ctx: Ctx, links: NewLink[]): Promise<CreatedToken[]> {
  if (!links.length) return [];
  const rows = links.map((l) => l.row);
  await sharedWrite(ctx, (tx) => db(tx).insertInto("delivery_tokens").values(rows).execute());
  return links.map(({ token, row }) => {
    ctx.log.info("download link created", {
      tokenId: row.id,
      entitlementId: row.entitlement_id,
      expiresAt: row.expires_at,
      expiresAfterFirstUse: row.expires_after_first_use,
    });
    return {
      id: row.id,
      token,
      url: `${ctx.settings.publicUrl}/d/${token}`,
      expiresAt: row.expires_at,
      maxUses: row.max_uses,
      expiresAfterFirstUse: row.expires_after_first_use,
    };
  });
}

export interface TokenView {
  token: DeliveryToken;
  entitlement: Entitlement;
  product: Product;
  assets: Asset[];
  usesLeft: number | null;
  /**
   * Seconds the link will work from its first download, while that is still to come and would
   * end it before expires_at; null: it works until expires_at.
   */
  worksAfterFirstUse: number | null;
}

export type TokenInspection =
  | ({ state: "usable" } & TokenView)
  | { state: "expired" | "used_up"; product: Product };

/**
 * What a token link offers, without using it: for the `/d/{token}` page. A link that expired or
 * whose uses are spent says so (its holder may ask for a fresh one); an unknown or revoked link
 * throws the same 410 as always, and a link whose access ended throws 403 saying why.
 */
export async function inspectToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { token: string };
}): Promise<TokenInspection> {
  const token = await findToken(ctx, input.token);
  if (!token || token.revoked_at !== null) throw invalidLink();
  const now = ctx.clock.now();
  if (token.expires_at <= now) {
    return { state: "expired", product: await productOfEntitlement(ctx, token.entitlement_id) };
  }
  const entitlement = await activeEntitlementOf(ctx, token, now);
  const product = await productById(ctx, entitlement.product_id);
  const usesLeft = token.max_uses === null ? null : Math.max(0, token.max_uses - token.uses);
  if (usesLeft === 0) return { state: "used_up", product };
  let assets = db(ctx)
    .selectFrom("assets")
    .selectAll()
    .where("product_id", "=", product.id)
    .where("active", "=", 1);
  if (token.asset_id) assets = assets.where("id", "=", token.asset_id);
  return {
    state: "usable",
    token,
    entitlement,
    product,
    assets: await assets.orderBy("filename").execute(),
    usesLeft,
    worksAfterFirstUse: windowStillAhead(token, now),
  };
}

function windowStillAhead(token: DeliveryToken, now: number): number | null {
  const window = token.expires_after_first_use;
  if (window === null || token.first_used_at !== null) return null;
  return now + window * 1000 < token.expires_at ? window : null;
}

/**
 * Starts a link's window from its first use, once: the first download sets first_used_at and
 * brings expires_at forward to the earlier of the two ends, so every check of expires_at (the
 * link's page, its downloads, the seller's list) applies the window with nothing more to ask.
 * The update is conditional, so of concurrent first downloads exactly one records it.
 */
export async function startUseWindow(ctx: Ctx, token: DeliveryToken): Promise<void> {
  const window = token.expires_after_first_use;
  if (window === null || token.first_used_at !== null) return;
  const now = ctx.clock.now();
  const windowEnd = now + window * 1000;
  const started = await db(ctx)
    .updateTable("delivery_tokens")
    .set((eb) => ({
      first_used_at: now,
      expires_at: eb
        .case()
        .when("expires_at", "<", windowEnd)
        .then(eb.ref("expires_at"))
        .else(windowEnd)
        .end(),
    }))
    .where("id", "=", token.id)
    .where("first_used_at", "is", null)
    .executeTakeFirst();
  if (Number(started.numUpdatedRows) === 1)
    ctx.log.info("download link first used", { tokenId: token.id, windowSeconds: window });
}

/** The stored row of a token link, whatever its state; null for an unknown or malformed one. */
export async function findToken(ctx: Ctx, raw: string): Promise<DeliveryToken | null> {
  if (!TOKEN_SHAPE.test(raw)) return null;
  // An unlimited link's count of uses may be a second old here; it decides nothing.
  return cachedRead(ctx, `token:${raw}`, async () => {
    const token = await db(ctx)
      .selectFrom("delivery_tokens")
      .selectAll()
      .where("token_hash", "=", await sha256Hex(ctx, raw))
      .executeTakeFirst();
    return token ?? null;
  });
}

export function entitlementOf(ctx: Ctx, token: DeliveryToken): Promise<Entitlement> {
  return cachedRead(ctx, `entitlement:${token.entitlement_id}`, () =>
    db(ctx)
      .selectFrom("entitlements")
      .selectAll()
      .where("id", "=", token.entitlement_id)
      .executeTakeFirstOrThrow(),
  );
}

/** The entitlement a token link gives, while it is active; else a 403 that says why. */
export async function activeEntitlementOf(
  ctx: Ctx,
  token: DeliveryToken,
  now: number,
): Promise<Entitlement> {
  const entitlement = await entitlementOf(ctx, token);
  if (!isActive(entitlement, now)) throw forbidden(denialReason([entitlement], now));
  return entitlement;
}

async function productOfEntitlement(ctx: Ctx, entitlementId: string): Promise<Product> {
  return db(ctx)
    .selectFrom("products")
    .selectAll("products")
    .innerJoin("entitlements", "entitlements.product_id", "products.id")
    .where("entitlements.id", "=", entitlementId)
    .executeTakeFirstOrThrow();
}

/** Unknown, tampered, revoked and expired links all get this same answer. */
export const invalidLink = () =>
  gone(
    "This download link has expired or is not valid. Ask for a fresh link, or sign in to your library.",
  );
export const usedUp = () => gone("This download link has been used as many times as it allows.");
