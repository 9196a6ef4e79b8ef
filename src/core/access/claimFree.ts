import type { Entitlement, Product } from "../../db/schema.ts";
import { getProduct } from "../catalog/products.ts";
import { type Ctx, db, normalizeEmail, requireUser, system } from "../context.ts";
import { type CreatedToken, createDownloadToken } from "../delivery/tokens.ts";
import { timingSafeEqual, toBase64Url } from "../encoding.ts";
import { conflict, gone } from "../errors.ts";
import { hitRateLimit } from "../identity/rateLimit.ts";
import { emailSchema } from "../identity/signIn.ts";
import { parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { grantAccess } from "./entitlements.ts";

/*
 * Free products. A signed-in buyer takes one with one click. Anyone else enters an email and gets
 * a mail whose link proves the address; opening it and clicking once grants the product to that
 * address and hands over its files. The link is stateless (signed with the shop's link secret), so
 * an unclaimed request leaves nothing behind, and using it twice gives the same access.
 */

/** How long a claim link works. */
export const CLAIM_LINK_HOURS = 24;
const WINDOW_SECONDS = 60 * 60;
/** Per hour: claim mails asked from one client, and sent to one inbox. */
const LIMITS = { perIp: 20, perInbox: 5 };
const PREFIX = "claim1.";

/** A signed-in user takes a free product; claiming twice returns the same entitlement. */
export async function claimFree({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string };
}): Promise<Entitlement> {
  const user = requireUser(ctx);
  const product = freeProduct(await getProduct({ ctx, input }));
  return grantAccess({
    ctx,
    input: {
      productId: product.id,
      owner: { userId: user.id, email: user.email },
      source: "free",
      sourceRef: `user:${user.id}`,
    },
  });
}

/** The facts a claim link carries, checked by its signature. */
export interface FreeClaim {
  slug: string;
  email: string;
  /** Epoch ms after which the link is refused. */
  expires: number;
}

/**
 * Mails a link that claims a free product for an address. Limited per client and per inbox (a
 * form anyone may post must not become a way to flood someone's mail).
 */
export async function requestFreeClaim({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; email: unknown; ip?: string | null };
}): Promise<{ email: string; hours: number }> {
  const product = freeProduct(await getProduct({ ctx, input: { slug: input.slug } }));
  const email = normalizeEmail(parseInput(z.object({ email: emailSchema }), input).email);
  const wait = "Too many requests for this email. Please wait a while (at most an hour).";
  if (input.ip) await hitRateLimit(ctx, `claim:ip:${input.ip}`, LIMITS.perIp, WINDOW_SECONDS, wait);
  await hitRateLimit(ctx, `claim:to:${email}`, LIMITS.perInbox, WINDOW_SECONDS, wait);
  const claim = {
    slug: product.slug,
    email,
    expires: ctx.clock.now() + CLAIM_LINK_HOURS * 3_600_000,
  };
  const url = `${ctx.settings.publicUrl}/claim/${product.slug}?${await claimQuery(ctx, claim)}`;
  await ctx.mailer.send({
    kind: "free-claim",
    to: email,
    productName: product.name,
    url,
    hours: CLAIM_LINK_HOURS,
  });
  ctx.log.info("free claim link sent", { product: product.slug, email });
  return { email, hours: CLAIM_LINK_HOURS };
}

/**
 * Reads a claim link's query: its product and address, when the signature holds and the link has
 * not expired. A tampered, foreign or expired link gets one and the same answer.
 */
export async function readFreeClaim({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; query: Record<string, string | undefined> };
}): Promise<{ claim: FreeClaim; product: Product }> {
  const { email, expires, sig } = input.query;
  const claim = { slug: input.slug, email: email ?? "", expires: Number(expires) };
  const valid =
    !!sig &&
    Number.isSafeInteger(claim.expires) &&
    claim.expires > ctx.clock.now() &&
    timingSafeEqual(sig, await signature(ctx, claim));
  if (!valid) throw invalidClaim();
  const product = await getProduct({ ctx, input: { slug: input.slug } }).catch(() => {
    throw invalidClaim();
  });
  return { claim, product: freeProduct(product) };
}

/**
 * Completes a claim link: the address it was mailed to gets the product (with the account of that
 * address, when there is one) and a download link to its files. Idempotent.
 */
export async function completeFreeClaim({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; query: Record<string, string | undefined> };
}): Promise<{ entitlement: Entitlement; link: CreatedToken }> {
  const { claim, product } = await readFreeClaim({ ctx, input });
  const user = await db(ctx)
    .selectFrom("users")
    .select("id")
    .where("email", "=", claim.email)
    .executeTakeFirst();
  const entitlement = await grantAccess({
    ctx,
    input: {
      productId: product.id,
      owner: { userId: user?.id ?? null, email: claim.email },
      source: "free",
      sourceRef: user ? `user:${user.id}` : `email:${claim.email}`,
    },
  });
  const link = await createDownloadToken({
    ctx: { ...ctx, actor: system },
    input: {
      ...(entitlement.user_id ? { userId: entitlement.user_id } : {}),
      email: claim.email,
      productId: product.id,
    },
  });
  ctx.log.info("free product claimed", { product: product.slug, entitlementId: entitlement.id });
  return { entitlement, link };
}

function freeProduct(product: Product): Product {
  if (product.kind !== "free") throw conflict("This product is not free; buy it to get access.");
  return product;
}

const invalidClaim = () =>
  gone(
    "This link has expired or is not valid. Enter your email on the product's page for a new one.",
  );

async function claimQuery(ctx: Ctx, claim: FreeClaim): Promise<string> {
  return new URLSearchParams({
    email: claim.email,
    expires: String(claim.expires),
    sig: await signature(ctx, claim),
  }).toString();
}

async function signature(ctx: Ctx, claim: FreeClaim): Promise<string> {
  const payload = `${PREFIX}${claim.slug}\n${claim.email}\n${claim.expires}`;
  return toBase64Url(await ctx.crypto.hmacSha256(ctx.settings.linkSecret, payload));
}
