import { type Ctx, requireAdmin } from "../context.ts";
import { emailSchema } from "../identity/signIn.ts";
import { storePublicImage } from "../images/publicImages.ts";
import { type SettingsReader, shopSetting } from "../shopSetting.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";

/**
 * What the seller sets about the shop from its pages (decision 0016), shown on every page and in
 * every mail: its name, logo, support address and time zone. The configuration gives the
 * defaults (SHOP_NAME; no logo; no support address; UTC) until the seller saves their own.
 */
export interface ShopProfile {
  name: string;
  /** Where buyers write with questions: shown in pages and mails, and mails' Reply-To. */
  supportEmail: string | null;
  /** An IANA zone (Europe/Berlin): every date the shop shows is in it. */
  timeZone: string;
  /** The logo's public image id (served at /images/{id}). */
  logo: string | null;
}

/** A logo is shown 28 pixels high: half a megabyte is plenty even for a sharp one. */
export const MAX_LOGO_BYTES = 512 * 1024;

/** The shop's profile as it is now: the seller's settings over the configuration's defaults. */
const profile = shopSetting(loadShopProfile);
export const readShopProfile = profile.read;

/** The profile of a shop whose seller never saved one. */
export const defaultShopProfile = (name: string): ShopProfile => ({
  name,
  supportEmail: null,
  timeZone: "UTC",
  logo: null,
});

async function loadShopProfile(ctx: SettingsReader): Promise<ShopProfile> {
  const row = await ctx.db
    .selectFrom("shop_profile")
    .selectAll()
    .where("id", "=", 1)
    .executeTakeFirst();
  const defaults = defaultShopProfile(ctx.settings.shopName);
  if (!row) return defaults;
  return {
    name: row.name ?? defaults.name,
    supportEmail: row.support_email ?? defaults.supportEmail,
    timeZone: row.time_zone ?? defaults.timeZone,
    logo: row.logo_image ?? defaults.logo,
  };
}

/** Whether this runtime knows the IANA zone (Node and Workers carry the full zone data). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** How far the zone's clocks are ahead of UTC at `at` (Tokyo: 9 hours), in ms. */
export function timeZoneOffsetMs(zone: string, at: number): number {
  if (zone === "UTC") return 0;
  const part: Record<string, number> = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  for (const { type, value } of format.formatToParts(at)) part[type] = Number(value);
  const wall = Date.UTC(
    part.year ?? 0,
    (part.month ?? 1) - 1,
    part.day,
    part.hour,
    part.minute,
    part.second,
  );
  return wall - Math.floor(at / 1000) * 1000;
}

export const shopProfileSchema = z.object({
  name: z
    .string()
    .check(
      z.trim(),
      z.minLength(1, "cannot be empty: buyers see it on every page and in every mail"),
      z.maxLength(80, "is too long (80 characters at most)"),
    ),
  /** Empty: no support address. */
  supportEmail: z.optional(
    z.union([
      z.pipe(
        z.string().check(z.trim(), z.maxLength(0)),
        z.transform(() => null),
      ),
      emailSchema,
    ]),
  ),
  timeZone: z
    .string()
    .check(
      z.trim(),
      z.refine(
        isTimeZone,
        "is not a time zone: use a name such as Europe/Berlin, America/New_York or UTC",
      ),
    ),
});

/** The seller saves the shop's name, support address and time zone. */
export async function updateShopProfile({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof shopProfileSchema>;
}): Promise<ShopProfile> {
  requireAdmin(ctx);
  const { name, supportEmail = null, timeZone } = parseInput(shopProfileSchema, input);
  await saveProfile(ctx, { name, support_email: supportEmail, time_zone: timeZone });
  ctx.log.info("shop settings saved", { name, timeZone });
  return readShopProfile(ctx);
}

/**
 * Sets the shop's logo from the image's bytes (checked and stored by core/images). A refused
 * image (not an image, SVG, too large) throws before anything changes.
 */
export async function setShopLogo({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { body: ReadableStream<Uint8Array> | Uint8Array | null; declaredSize?: number | null };
}): Promise<ShopProfile> {
  requireAdmin(ctx);
  const image = await storePublicImage(ctx, {
    body: input.body,
    declaredSize: input.declaredSize ?? null,
    maxBytes: MAX_LOGO_BYTES,
  });
  await saveProfile(ctx, { logo_image: image.id });
  ctx.log.info("shop logo set", { image: image.id });
  return readShopProfile(ctx);
}

/** Takes the logo off the shop's pages and mails (the image stays stored: it may be a cover). */
export async function removeShopLogo({ ctx }: { ctx: Ctx }): Promise<ShopProfile> {
  requireAdmin(ctx);
  await saveProfile(ctx, { logo_image: null });
  return readShopProfile(ctx);
}

async function saveProfile(
  ctx: Ctx,
  values: {
    name?: string;
    support_email?: string | null;
    time_zone?: string;
    logo_image?: string | null;
  },
): Promise<void> {
  await profile.save(ctx, values);
}
