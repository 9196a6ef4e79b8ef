import type { AccessChange, Entitlement, EntitlementSource, Product } from "../../db/schema.ts";
import { getProductForAdmin } from "../catalog/products.ts";
import { slugSchema } from "../catalog/schemas.ts";
import { type Ctx, db, requireAdmin } from "../context.ts";
import { emailSchema } from "../identity/signIn.ts";
import { orderReference } from "../orders/reference.ts";
import { readShopProfile } from "../shop/profile.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";
import { entitlementsOf, type Holder, holderOf, isActive } from "./accessRule.ts";
import { expiryReason } from "./history.ts";

export const accessHistorySchema = z.object({
  email: emailSchema,
  /** The product's slug. */
  product: z.pipe(
    z.string().check(z.trim(), z.minLength(1, "is required: give the product's slug")),
    slugSchema,
  ),
});

export interface AccessHistoryEntry {
  /** When, as `toISOString()` writes it. */
  at: string;
  change: AccessChange;
  /** Who: `stripe:{event id}`, `seller`, `cli`, `system`, `buyer`; `unknown` before the history. */
  by: string;
  reason: string | null;
  entitlementId: string;
  /** What the entitlement came from: purchase, subscription, grant, free. */
  source: EntitlementSource;
}

/** Why a customer has a product or not: one sentence, and every change, newest first. */
export interface AccessExplanation {
  email: string;
  product: { slug: string; name: string };
  hasAccess: boolean;
  sentence: string;
  history: AccessHistoryEntry[];
}

/**
 * "Why does (or doesn't) this buyer have access": the access rule's answer for the email and the
 * account with that email (the holder a download by them would be), said in one sentence, with
 * the access history of every entitlement they have had to the product.
 */
export async function accessHistory({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof accessHistorySchema>;
}): Promise<AccessExplanation> {
  requireAdmin(ctx);
  const { email, product: slug } = parseInput(accessHistorySchema, input);
  const product = await getProductForAdmin({ ctx, input: { slug } });
  const holder = await holderOf(ctx, email);
  const entitlements = await entitlementsOf(ctx, holder, product.id);
  const [explained] = await explain(ctx, holder, [product], entitlements);
  return explained as AccessExplanation;
}

/**
 * The same for every product a customer has ever had access to, newest change first (the
 * customer page; whatever was searched for, as the page's other lists take it).
 */
export async function customerAccessHistories({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: string };
}): Promise<AccessExplanation[]> {
  requireAdmin(ctx);
  const holder = await holderOf(ctx, String(input.email).slice(0, 320));
  const entitlements = await entitlementsOf(ctx, holder);
  if (!entitlements.length) return [];
  const products = await db(ctx)
    .selectFrom("products")
    .selectAll()
    .where("id", "in", [...new Set(entitlements.map((e) => e.product_id))])
    .execute();
  const explained = await explain(ctx, holder, products, entitlements);
  return explained.sort((a, b) => (b.history[0]?.at ?? "").localeCompare(a.history[0]?.at ?? ""));
}

async function explain(
  ctx: Ctx,
  holder: Holder,
  products: Product[],
  entitlements: Entitlement[],
): Promise<AccessExplanation[]> {
  const now = ctx.clock.now();
  const { timeZone } = await readShopProfile(ctx);
  const stored = entitlements.length
    ? await db(ctx)
        .selectFrom("access_events")
        .selectAll()
        .where(
          "entitlement_id",
          "in",
          entitlements.map((e) => e.id),
        )
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .execute()
    : [];
  const email = holder.email ?? "";
  const result: AccessExplanation[] = [];
  for (const product of products) {
    const held = entitlements.filter((e) => e.product_id === product.id);
    const entries = held.flatMap((e) =>
      historyOf(
        e,
        stored.filter((s) => s.entitlement_id === e.id),
        now,
      ),
    );
    // Newest first; the sort is stable, so entries of one moment keep the order they were written.
    entries.sort((a, b) => b.at - a.at);
    const facts: Facts = { held, entries, now, day: dayIn(timeZone) };
    const active = held.filter((e) => isActive(e, now)).sort((a, b) => b.starts_at - a.starts_at);
    const why = active[0]
      ? `has access to ${product.name}: ${await howGranted(ctx, active[0], facts)}`
      : held.length
        ? `has no access to ${product.name}: ${whyNot(facts)}`
        : `never had access to ${product.name}`;
    result.push({
      email,
      product: { slug: product.slug, name: product.name },
      hasAccess: active.length > 0,
      sentence: `${email} ${why}.`,
      history: entries.map((entry) => ({ ...entry, at: new Date(entry.at).toISOString() })),
    });
  }
  return result;
}

type Entry = Omit<AccessHistoryEntry, "at"> & { at: number };

/**
 * An entitlement's history: what was recorded, and what the row itself says that nobody had to
 * record. Access that ran out (`ends_at` passed) shows as "expired" then, unless a recorded
 * "expired" came last; an entitlement older than the history shows its grant (and its revoke or
 * suspension) from the row, by "unknown".
 */
function historyOf(
  e: Entitlement,
  stored: { created_at: number; change: AccessChange; by: string; reason: string | null }[],
  now: number,
): Entry[] {
  const entry = (at: number, change: AccessChange, by: string, reason: string | null): Entry => ({
    at,
    change,
    by,
    reason,
    entitlementId: e.id,
    source: e.source,
  });
  const entries = stored.map((s) => entry(s.created_at, s.change, s.by, s.reason));
  if (!stored.length) {
    entries.push(entry(e.created_at, "granted", "unknown", "before the access history was kept"));
    if (e.status !== "active")
      entries.push(
        entry(
          e.updated_at,
          e.status === "revoked" ? "revoked" : "suspended",
          "unknown",
          e.revoked_reason,
        ),
      );
  }
  if (
    e.status === "active" &&
    e.ends_at !== null &&
    e.ends_at <= now &&
    stored[0]?.change !== "expired"
  )
    entries.push(entry(e.ends_at, "expired", "system", expiryReason(e)));
  return entries;
}

interface Facts {
  held: Entitlement[];
  entries: Entry[];
  now: number;
  day: (ms: number) => string;
}

/** The newest entry of one entitlement, of the given changes. */
const latest = (facts: Facts, e: Entitlement, ...changes: AccessChange[]) =>
  facts.entries.find((x) => x.entitlementId === e.id && changes.includes(x.change));

/** How an entitlement that works now came to be: "bought on 4 Dec 2026 (order 7KQ4M-2ZPXA)". */
async function howGranted(ctx: Ctx, e: Entitlement, facts: Facts): Promise<string> {
  const { day } = facts;
  const granted = latest(facts, e, "granted");
  const by = granted ? byWords(granted.by) : "";
  let how: string;
  if (e.source === "purchase")
    how = `bought on ${day(e.starts_at)} (order ${orderReference(e.source_ref)})`;
  else if (e.source === "subscription") {
    const order = await db(ctx)
      .selectFrom("orders")
      .select("id")
      .where("subscription_id", "=", e.source_ref)
      .where("product_id", "=", e.product_id)
      .orderBy("created_at", "asc")
      .executeTakeFirst();
    const ref = order ? `order ${orderReference(order.id)}` : `subscription ${e.source_ref}`;
    how = `subscribed on ${day(e.starts_at)} (${ref})`;
  } else if (e.source === "grant") how = `given on ${day(e.starts_at)}${by}`;
  else how = `claimed for free on ${day(e.starts_at)}`;
  // Turned back on since (a won dispute, granted again, an order re-opened): when, why and by whom.
  const back = latest(facts, e, "restored", "reopened", "granted");
  if (back && back.change !== "granted")
    how += `, ${back.change} on ${day(back.at)}${RESTORED_WORDS[back.reason ?? ""] ?? ` (${back.reason})`}${byWords(back.by)}`;
  if (e.ends_at !== null) how += `; access until ${day(e.ends_at)}`;
  return how;
}

/** What a restoration's reason reads as after "restored on 5 Dec 2026"; others in brackets. */
const RESTORED_WORDS: Record<string, string> = {
  "": "",
  "dispute won": " after the payment dispute was won",
  "granted again": "",
};

/** Why none of the holder's entitlements works, in the order the access rule's 403 says it. */
function whyNot(facts: Facts): string {
  const { held, day, now } = facts;
  const newest = (rows: Entitlement[]) => rows.sort((a, b) => b.updated_at - a.updated_at)[0];
  const suspended = newest(held.filter((e) => e.status === "suspended"));
  if (suspended) {
    const x = latest(facts, suspended, "suspended");
    const at = day(x?.at ?? suspended.updated_at);
    const reason = x?.reason ?? null;
    return reason === "payment disputed"
      ? `suspended on ${at} while a payment dispute is open${byWords(x?.by)}`
      : `suspended on ${at}${reason ? ` (${reason})` : ""}${byWords(x?.by)}`;
  }
  const revoked =
    newest(held.filter((e) => e.status === "revoked" && e.revoked_reason === "refunded")) ??
    newest(held.filter((e) => e.status === "revoked"));
  if (revoked) {
    const x = latest(facts, revoked, "revoked");
    const at = day(x?.at ?? revoked.updated_at);
    const reason = revoked.revoked_reason;
    if (reason === "refunded") return `refunded on ${at}${byWords(x?.by)}`;
    if (reason === "dispute lost")
      return `revoked on ${at} after a lost payment dispute${byWords(x?.by)}`;
    if (reason === "subscription ended") return `the subscription ended on ${at}${byWords(x?.by)}`;
    const said = reason && reason !== "revoked by the seller" ? ` ("${reason}")` : "";
    return `revoked on ${at}${byWords(x?.by)}${said}`;
  }
  const ended = newest(held.filter((e) => e.ends_at !== null && e.ends_at <= now));
  if (ended) return `access ended on ${day(ended.ends_at as number)}`;
  const next = [...held].sort((a, b) => a.starts_at - b.starts_at)[0] as Entitlement;
  return `access starts on ${day(next.starts_at)}`;
}

/** " by the seller", " (Stripe event evt_123)": who, after a verb; nothing when not known. */
function byWords(by: string | undefined): string {
  if (!by || by === "unknown") return "";
  const who = describeBy(by);
  return by.startsWith("stripe:") ? ` (${who})` : ` by ${who}`;
}

/** Who made a change, in words: "Stripe event evt_123", "the seller", "the CLI". */
export function describeBy(by: string): string {
  if (by.startsWith("stripe:")) {
    const id = by.slice("stripe:".length);
    return id.startsWith("cs_") ? `Stripe checkout ${id}` : `Stripe event ${id}`;
  }
  return BY_WORDS[by] ?? by;
}

const BY_WORDS: Record<string, string> = {
  seller: "the seller",
  cli: "the CLI",
  system: "the system",
  buyer: "the buyer",
  unknown: "unknown",
};

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "4 Dec 2026": the day in the shop's time zone. */
function dayIn(timeZone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
  });
  return (ms) => {
    const part: Record<string, string> = {};
    for (const { type, value } of format.formatToParts(ms)) part[type] = value;
    return `${part.day} ${MONTHS[Number(part.month) - 1]} ${part.year}`;
  };
}
