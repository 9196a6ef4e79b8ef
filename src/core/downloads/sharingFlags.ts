/**
 * Sharing detection's flags (decision 0028): the buyer confirms by email (one click in a mail
 * clears the flag and the window's evidence starts over), the seller sees the evidence and may
 * clear a flag, and the dashboard counts them. The detection itself is in sharing.ts.
 */
import { recordAccessChange } from "../access/history.ts";
import { type Ctx, db, requireAdmin, sha256Hex, withTransaction } from "../context.ts";
import { toBase64Url } from "../encoding.ts";
import { gone, invalidInput, notFound } from "../errors.ts";
import { hitRateLimit } from "../identity/rateLimit.ts";
import { safeNextPath } from "../identity/signIn.ts";
import { readConfirmationRequest, sharingSettings, signalsOf } from "./sharing.ts";

/** How long the mailed confirmation link works. */
export const CONFIRM_LINK_HOURS = 24;
const TOKEN_PREFIX = "tgs_";
const TOKEN_SHAPE = /^tgs_[A-Za-z0-9_-]{43}$/;

/** Confirmation mails one client may ask for, and one buyer may get, per 15 minutes. */
export const CONFIRM_REQUESTS_PER_CLIENT = 5;
export const CONFIRM_MAILS_PER_BUYER = 3;
const WINDOW_SECONDS = 15 * 60;

export interface ConfirmationSent {
  /** `sent`: a link is on its way; `not_needed`: nothing to confirm any more (cleared). */
  status: "sent" | "not_needed";
  /** The buyer's address, masked (`a…@example.com`): where to look, no more. */
  email: string | null;
  hours: number;
}

/**
 * From the "Confirm it's you" page: mails a one-time link to the buyer's own address (never one
 * typed in), for the flag the signed request names. Rate limited per client and per buyer. A
 * request for a flag that was cleared meanwhile sends nothing: the download can go on.
 */
export async function requestSharingConfirmation({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { request: unknown; next?: unknown; ip?: string | null };
}): Promise<ConfirmationSent> {
  await hitRateLimit(
    ctx,
    `sharing-confirm:ip:${input.ip ?? "unknown"}`,
    CONFIRM_REQUESTS_PER_CLIENT,
    WINDOW_SECONDS,
    "Too many confirmation emails were asked for from here. Please wait a few minutes, then check your inbox for the ones already sent.",
  );
  const named = await readConfirmationRequest(ctx, input.request);
  if (!named)
    throw invalidInput(
      "This confirmation request is not valid. Open the download again to get a fresh one.",
    );
  const buyer = await db(ctx)
    .selectFrom("entitlements as e")
    .innerJoin("products as p", "p.id", "e.product_id")
    .leftJoin("users as u", "u.id", "e.user_id")
    .select(["e.sharing_flagged_at", "e.email", "u.email as user_email", "p.name as product_name"])
    .where("e.id", "=", named.entitlementId)
    .executeTakeFirst();
  const to = buyer?.user_email ?? buyer?.email ?? null;
  const hours = CONFIRM_LINK_HOURS;
  if (!buyer || !to || Number(buyer.sharing_flagged_at) !== named.flaggedAt) {
    return { status: "not_needed", email: null, hours };
  }
  await hitRateLimit(
    ctx,
    `sharing-confirm:ent:${named.entitlementId}`,
    CONFIRM_MAILS_PER_BUYER,
    WINDOW_SECONDS,
    "A confirmation email was sent several times already. Please check your inbox (and spam folder) for the latest one.",
  );
  const token = TOKEN_PREFIX + toBase64Url(ctx.crypto.randomBytes(32));
  // Only the latest mailed link works: a new one replaces the one before.
  const stored = await db(ctx)
    .updateTable("sharing_flags")
    .set({
      confirm_hash: await sha256Hex(ctx, token),
      confirm_expires_at: ctx.clock.now() + hours * 3600_000,
    })
    .where("entitlement_id", "=", named.entitlementId)
    .where("flagged_at", "=", named.flaggedAt)
    .where("cleared_at", "is", null)
    .executeTakeFirst();
  if (Number(stored.numUpdatedRows) !== 1) return { status: "not_needed", email: null, hours };
  const next = safeNextPath(input.next);
  const url = `${ctx.settings.publicUrl}/sharing/confirm?token=${token}${next ? `&next=${encodeURIComponent(next)}` : ""}`;
  await ctx.mailer.send({
    kind: "sharing-confirm",
    to,
    productName: buyer.product_name,
    url,
    hours,
  });
  ctx.log.info("sharing confirmation sent", { entitlementId: named.entitlementId });
  return { status: "sent", email: maskAddress(to), hours };
}

/** `ann@example.com` -> `a…@example.com`. */
export function maskAddress(email: string): string {
  const at = email.lastIndexOf("@");
  return at < 1 ? "your address" : `${email.slice(0, 1)}…${email.slice(at)}`;
}

/**
 * The buyer opened the mailed link: clears the flag (the window's evidence starts over) and
 * says where the download was. Works once; a used, replaced or expired link says so.
 */
export async function confirmSharing({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { token: unknown; next?: unknown };
}): Promise<{ next: string | null }> {
  const token = typeof input.token === "string" ? input.token : "";
  const used = () =>
    gone(
      "This confirmation link was already used, replaced by a newer one, or has expired. If your download still asks, ask for a new link from it.",
    );
  if (!TOKEN_SHAPE.test(token)) throw used();
  const hash = await sha256Hex(ctx, token);
  const cleared = await withTransaction(ctx, async (tx) => {
    const flag = await db(tx)
      .updateTable("sharing_flags")
      .set({ cleared_at: tx.clock.now(), cleared_by: "buyer", confirm_hash: null })
      .where("confirm_hash", "=", hash)
      .where("cleared_at", "is", null)
      .where("confirm_expires_at", ">", tx.clock.now())
      .returning(["entitlement_id", "flagged_at"])
      .executeTakeFirst();
    if (!flag) return false;
    await clearEntitlement(
      { ...tx, cause: "buyer" },
      flag.entitlement_id,
      Number(flag.flagged_at),
      "The buyer confirmed by email that the downloads were theirs.",
    );
    return true;
  });
  if (!cleared) throw used();
  return { next: safeNextPath(input.next) };
}

/** The seller clears a buyer's flag (the "Possibly shared" page): their downloads go on. */
export async function clearSharingFlag({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { entitlementId: string };
}): Promise<void> {
  requireAdmin(ctx);
  const done = await withTransaction(ctx, async (tx) => {
    const row = await db(tx)
      .selectFrom("entitlements")
      .select("sharing_flagged_at")
      .where("id", "=", input.entitlementId)
      .executeTakeFirst();
    if (!row) throw notFound("There is no such buyer's access.");
    if (row.sharing_flagged_at === null) return false;
    const flaggedAt = Number(row.sharing_flagged_at);
    await db(tx)
      .updateTable("sharing_flags")
      .set({ cleared_at: tx.clock.now(), cleared_by: "seller", confirm_hash: null })
      .where("entitlement_id", "=", input.entitlementId)
      .where("flagged_at", "=", flaggedAt)
      .where("cleared_at", "is", null)
      .execute();
    await clearEntitlement(tx, input.entitlementId, flaggedAt, "The seller cleared the flag.");
    return true;
  });
  if (done) ctx.log.info("sharing flag cleared by the seller", { ...input });
}

/** Takes the flag off (only the one it was) and starts the window's evidence over. */
async function clearEntitlement(
  tx: Ctx,
  entitlementId: string,
  flaggedAt: number,
  reason: string,
): Promise<void> {
  const entitlement = await db(tx)
    .updateTable("entitlements")
    .set({ sharing_flagged_at: null })
    .where("id", "=", entitlementId)
    .where("sharing_flagged_at", "=", flaggedAt)
    .returning(["id", "product_id"])
    .executeTakeFirst();
  await db(tx).deleteFrom("sharing_signals").where("entitlement_id", "=", entitlementId).execute();
  if (entitlement) await recordAccessChange(tx, entitlement, "sharing_cleared", reason);
}

/** What the seller sees of one flag. */
export interface SharingFlagView {
  entitlementId: string;
  buyer: string;
  product: { slug: string; name: string };
  flaggedAt: number;
  /** Null while the flag stands. */
  clearedAt: number | null;
  clearedBy: string | null;
  /** Counts when it was flagged. */
  networks: number;
  devices: number;
  /** Whether a confirmation link was mailed and still works. */
  confirmationSent: boolean;
  /** The evidence: what made the flag, or for a standing flag the window as it is now. */
  evidence: {
    link: string;
    network: string;
    device: string;
    firstAt: number;
    lastAt: number;
    downloads: number;
  }[];
}

/** Standing flags first, newest first, then the last cleared ones. */
export async function listSharingFlags({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { limit?: number };
}): Promise<{ flags: SharingFlagView[]; settings: Awaited<ReturnType<typeof sharingSettings>> }> {
  requireAdmin(ctx);
  const settings = await sharingSettings(ctx);
  const rows = await db(ctx)
    .selectFrom("sharing_flags as f")
    .innerJoin("entitlements as e", "e.id", "f.entitlement_id")
    .innerJoin("products as p", "p.id", "e.product_id")
    .leftJoin("users as u", "u.id", "e.user_id")
    .selectAll("f")
    .select(["e.email", "u.email as user_email", "p.slug", "p.name"])
    .orderBy("f.flagged_at", "desc")
    .limit(input.limit ?? 100)
    .execute();
  const now = ctx.clock.now();
  const flags: SharingFlagView[] = [];
  for (const r of rows) {
    const standing = r.cleared_at === null;
    const snapshot = JSON.parse(r.evidence) as SharingFlagView["evidence"];
    // A standing flag: the evidence since the window before it, as it is now.
    const evidence = standing
      ? mergeEvidence(
          snapshot,
          await signalsOf(ctx, r.entitlement_id, now - settings.windowHours * 3600_000),
        )
      : snapshot;
    flags.push({
      entitlementId: r.entitlement_id,
      buyer: r.user_email ?? r.email ?? "unknown buyer",
      product: { slug: r.slug, name: r.name },
      flaggedAt: Number(r.flagged_at),
      clearedAt: r.cleared_at === null ? null : Number(r.cleared_at),
      clearedBy: r.cleared_by,
      networks: Number(r.networks),
      devices: Number(r.devices),
      confirmationSent: standing && r.confirm_hash !== null && Number(r.confirm_expires_at) > now,
      evidence,
    });
  }
  flags.sort((a, b) => Number(a.clearedAt !== null) - Number(b.clearedAt !== null));
  return { flags, settings };
}

function mergeEvidence(
  snapshot: SharingFlagView["evidence"],
  current: SharingFlagView["evidence"],
): SharingFlagView["evidence"] {
  const key = (e: SharingFlagView["evidence"][number]) => `${e.link} ${e.network} ${e.device}`;
  const byKey = new Map(snapshot.map((e) => [key(e), e]));
  for (const e of current) byKey.set(key(e), e);
  return [...byKey.values()].sort((a, b) => b.lastAt - a.lastAt);
}

/** Buyers flagged now (the dashboard's card). */
export async function countSharingFlags({ ctx }: { ctx: Ctx }): Promise<number> {
  requireAdmin(ctx);
  const row = await db(ctx)
    .selectFrom("sharing_flags")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("cleared_at", "is", null)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
