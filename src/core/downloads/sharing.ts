/**
 * Sharing detection, soft (issue 19, point 4; decision 0028). Off until the seller turns it on.
 *
 * Each new download of a buyer (an entitlement, through any of its links) leaves its evidence: the
 * network it came from (an IPv4 /24 or IPv6 /48, never the whole address) and a coarse device
 * label (the browser's and the system's families from the User-Agent). A Range continuation of a
 * download already under way leaves none (deliverAndRecord calls this only for new downloads).
 * Past the seller's threshold of distinct networks or devices within the window, the buyer is
 * flagged once (a conditional update of their entitlement, so two processes flag and alert once),
 * the seller is alerted, and the buyer's next download asks them to confirm by email
 * (sharingFlags.ts): nothing is blocked silently, and a false alarm costs one click in a mail.
 *
 * Cost: with detection off, nothing but the settings (kept a second per process). On, one upsert
 * per new download; a network or device new in the window adds one count.
 */
import { sql } from "kysely";
import type { ShopProfileTable } from "../../db/schema.ts";
import { recordAccessChange } from "../access/history.ts";
import { alertSeller } from "../alerts.ts";
import {
  type Ctx,
  db,
  newTimeOrderedId,
  requireAdmin,
  sharedWrite,
  withTransaction,
} from "../context.ts";
import { timingSafeEqual, toBase64Url } from "../encoding.ts";
import { AppError } from "../errors.ts";
import { type SettingsReader, shopSetting } from "../shopSetting.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";

export interface SharingSettings {
  enabled: boolean;
  /** Flagged past this many distinct networks within the window. */
  networks: number;
  /** Flagged past this many distinct devices within the window. */
  devices: number;
  windowHours: number;
}

/** What a download tells sharing detection; `flaggedAt` is its entitlement's flag. */
export interface SharingEvidence {
  entitlementId: string;
  link: string;
  client: { ip?: string | null; userAgent?: string | null };
  /** The entitlement's sharing_flagged_at, as the download read it; undefined: not watched. */
  sharingFlaggedAt?: number | null;
}

// --- The seller's settings -------------------------------------------------------------------

/**
 * The settings in force: the seller's (shop_profile) over the configuration's defaults. Read on
 * the download path, so kept a second per process, and forgotten here on a save.
 */
const kept = shopSetting(loadSettings);
export const sharingSettings = kept.read;

async function loadSettings(ctx: SettingsReader): Promise<SharingSettings> {
  const row = await ctx.db
    .selectFrom("shop_profile")
    .select(["sharing_detection", "sharing_networks", "sharing_devices", "sharing_window_hours"])
    .where("id", "=", 1)
    .executeTakeFirst();
  const defaults = ctx.settings.sharing;
  const n = (v: number | null | undefined, fallback: number) => (v == null ? fallback : Number(v));
  return {
    enabled:
      row?.sharing_detection == null ? defaults.enabled : Number(row.sharing_detection) === 1,
    networks: n(row?.sharing_networks, defaults.networks),
    devices: n(row?.sharing_devices, defaults.devices),
    windowHours: n(row?.sharing_window_hours, defaults.windowHours),
  };
}

const threshold = (what: string) =>
  z
    .pipe(
      z.union([z.number(), z.string().check(z.trim(), z.regex(/^\d+$/, `must be a whole number`))]),
      z.transform(Number),
    )
    .check(
      z.refine((n) => Number.isInteger(n) && n >= 1, `must be at least 1 (${what})`),
      z.refine((n) => n <= 1000, `must be at most 1000 (${what})`),
    );

export const sharingSettingsSchema = z.object({
  enabled: z.union([
    z.boolean(),
    z.pipe(
      z.enum(["on", "off", "true", "false"]),
      z.transform((v) => v === "on" || v === "true"),
    ),
  ]),
  networks: threshold("networks"),
  devices: threshold("devices"),
  windowHours: threshold("hours").check(
    z.refine((n) => n <= 720, "must be at most 720 hours (30 days)"),
  ),
});

/** The seller turns detection on or off and sets its thresholds (the settings page). */
export async function updateSharingSettings({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof sharingSettingsSchema>;
}): Promise<SharingSettings> {
  requireAdmin(ctx);
  const v = parseInput(sharingSettingsSchema, input);
  const values: Partial<ShopProfileTable> = {
    sharing_detection: v.enabled ? 1 : 0,
    sharing_networks: v.networks,
    sharing_devices: v.devices,
    sharing_window_hours: v.windowHours,
  };
  await kept.save(ctx, values);
  ctx.log.info("sharing detection settings saved", { ...v });
  return sharingSettings(ctx);
}

// --- What a download leaves ------------------------------------------------------------------

/**
 * The network of an address, as little of it as tells networks apart: an IPv4 address's /24
 * (`203.0.113.0/24`), an IPv6 address's /48 (`2001:db8:1::/48`, a site); `unknown` without one.
 */
export function networkOf(ip: string | null | undefined): string {
  if (!ip) return "unknown";
  const address = ip
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/%.*$/, "");
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(address);
  if (v4) {
    const [a, b, c] = v4.slice(1).map(Number) as [number, number, number];
    if (a > 255 || b > 255 || c > 255) return "unknown";
    return `${a}.${b}.${c}.0/24`;
  }
  const groups = expandIpv6(address);
  if (!groups) return "unknown";
  return `${groups.slice(0, 3).join(":")}::/48`;
}

/** The eight groups of an IPv6 address (without leading zeros), or null when it is not one. */
function expandIpv6(address: string): string[] | null {
  if (!/^[0-9a-f:]+$/i.test(address) || !address.includes(":")) return null;
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const part = (s: string | undefined) => (s ? s.split(":") : []);
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (groups.some((g) => g.length === 0 || g.length > 4)) return null;
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\b(?:OPR|Opera)\//, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\b(?:Firefox|FxiOS)\//, "Firefox"],
  [/\b(?:Chrome|CriOS|Chromium)\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
];
const SYSTEMS: [RegExp, string][] = [
  [/\b(?:iPhone|iPad|iPod)\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

/**
 * A coarse label of the device a download came from: the browser's family and the system's
 * (`Firefox on Windows`), or a program's name (`curl`, `Wget`). No version, nothing that tells one
 * person's browser from another's: two labels differ when the devices plainly do.
 */
export function deviceOf(userAgent: string | null | undefined): string {
  const ua = userAgent?.trim() ?? "";
  if (!ua) return "unknown";
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1];
  if (browser) return system ? `${browser} on ${system}` : browser;
  // A program: its first product name (`curl/8.5.0` -> curl), letters and signs only.
  const program = /^([A-Za-z][\w.-]{0,40})/.exec(ua)?.[1];
  if (!program || program === "Mozilla") return system ? `a browser on ${system}` : "unknown";
  return program;
}

// --- On the download path --------------------------------------------------------------------

/**
 * Before a new download (deliverAndRecord; never for a continuation of one under way): refuses
 * a flagged buyer's with the confirmation it asks for, and records the evidence of the others'
 * (`record`: false for a HEAD, which checks only). Downloads whose verb does not watch them
 * (`sharingFlaggedAt` undefined) and a shop with detection off cost nothing.
 */
export async function checkSharing(
  ctx: Ctx,
  evidence: SharingEvidence,
  opts: { record: boolean },
): Promise<void> {
  if (evidence.sharingFlaggedAt === undefined) return;
  const settings = await sharingSettings(ctx);
  if (!settings.enabled) return;
  if (evidence.sharingFlaggedAt !== null) {
    // The row may be a second old (the read cache): a flag just cleared lets the download on.
    const flaggedAt = await currentFlag(ctx, evidence.entitlementId);
    if (flaggedAt !== null) throw await confirmRequired(ctx, evidence.entitlementId, flaggedAt);
  }
  if (!opts.record) return;
  try {
    const fresh = await recordSignal(ctx, evidence, settings);
    if (fresh) await flagIfPast(ctx, evidence.entitlementId, settings);
  } catch (error) {
    // Evidence is never worth a failed download.
    ctx.log.error("could not record sharing evidence", {
      entitlementId: evidence.entitlementId,
      error: String(error),
    });
  }
}

async function currentFlag(ctx: Ctx, entitlementId: string): Promise<number | null> {
  const row = await db(ctx)
    .selectFrom("entitlements")
    .select("sharing_flagged_at")
    .where("id", "=", entitlementId)
    .executeTakeFirst();
  return row?.sharing_flagged_at == null ? null : Number(row.sharing_flagged_at);
}

/**
 * One upsert: the download's network and device for this buyer and link. True when the pair is
 * new in the window (a row made, or one older than the window started over): only then can the
 * counts have grown.
 */
async function recordSignal(
  ctx: Ctx,
  evidence: SharingEvidence,
  settings: SharingSettings,
): Promise<boolean> {
  const now = ctx.clock.now();
  const since = now - settings.windowHours * 3600_000;
  const stale = sql<boolean>`sharing_signals.last_at <= ${since}`;
  // Its commit may be shared with other downloads' (group commit): no fsync of its own.
  const row = await sharedWrite(ctx, (tx) =>
    db(tx)
      .insertInto("sharing_signals")
      .values({
        entitlement_id: evidence.entitlementId,
        link: evidence.link,
        network: networkOf(evidence.client.ip),
        device: deviceOf(evidence.client.userAgent),
        first_at: now,
        last_at: now,
        downloads: 1,
      })
      .onConflict((oc) =>
        oc.columns(["entitlement_id", "link", "network", "device"]).doUpdateSet({
          first_at: sql`case when ${stale} then ${now} else sharing_signals.first_at end`,
          downloads: sql`case when ${stale} then 1 else sharing_signals.downloads + 1 end`,
          last_at: now,
        }),
      )
      .returning("downloads")
      .executeTakeFirstOrThrow(),
  );
  return Number(row.downloads) === 1;
}

/** The buyer's evidence within the window, newest first. */
export async function signalsOf(
  ctx: Ctx,
  entitlementId: string,
  since: number,
): Promise<
  {
    link: string;
    network: string;
    device: string;
    firstAt: number;
    lastAt: number;
    downloads: number;
  }[]
> {
  const rows = await db(ctx)
    .selectFrom("sharing_signals")
    .selectAll()
    .where("entitlement_id", "=", entitlementId)
    .where("last_at", ">", since)
    .orderBy("last_at", "desc")
    .limit(200)
    .execute();
  return rows.map((r) => ({
    link: r.link,
    network: r.network,
    device: r.device,
    firstAt: Number(r.first_at),
    lastAt: Number(r.last_at),
    downloads: Number(r.downloads),
  }));
}

/** Distinct networks and devices among these signals (`unknown` is not told apart). */
export function countsOf(signals: { network: string; device: string }[]): {
  networks: number;
  devices: number;
} {
  const distinct = (values: string[]) => new Set(values.filter((v) => v !== "unknown")).size;
  return {
    networks: distinct(signals.map((s) => s.network)),
    devices: distinct(signals.map((s) => s.device)),
  };
}

/**
 * Counts the buyer's window and, past the threshold, flags them: the flag is claimed by a
 * conditional update of the entitlement (only an unflagged one), so of concurrent downloads in
 * any number of processes exactly one flags, records it in the access history and alerts the
 * seller. The download that went past still goes through: the next one asks.
 */
async function flagIfPast(ctx: Ctx, entitlementId: string, settings: SharingSettings) {
  const now = ctx.clock.now();
  const signals = await signalsOf(ctx, entitlementId, now - settings.windowHours * 3600_000);
  const counts = countsOf(signals);
  if (counts.networks <= settings.networks && counts.devices <= settings.devices) return;
  const flagged = await withTransaction(ctx, async (tx) => {
    const claimed = await db(tx)
      .updateTable("entitlements")
      .set({ sharing_flagged_at: now })
      .where("id", "=", entitlementId)
      .where("sharing_flagged_at", "is", null)
      .returning(["id", "product_id", "email", "user_id"])
      .executeTakeFirst();
    if (!claimed) return null;
    await db(tx)
      .insertInto("sharing_flags")
      .values({
        id: newTimeOrderedId(tx, "shf"),
        entitlement_id: entitlementId,
        flagged_at: now,
        networks: counts.networks,
        devices: counts.devices,
        evidence: JSON.stringify(signals),
        confirm_hash: null,
        confirm_expires_at: null,
        cleared_at: null,
        cleared_by: null,
      })
      .execute();
    await recordAccessChange(
      { ...tx, cause: "system" },
      claimed,
      "sharing_flagged",
      `Possibly shared: ${describeCounts(counts, settings)}. The next download asks the buyer to confirm by email.`,
    );
    return claimed;
  });
  if (!flagged) return;
  ctx.log.warn("buyer flagged as possibly sharing", { entitlementId, ...counts });
  const [facts] = await db(ctx)
    .selectFrom("entitlements as e")
    .innerJoin("products as p", "p.id", "e.product_id")
    .leftJoin("users as u", "u.id", "e.user_id")
    .select(["p.name as product_name", "e.email", "u.email as user_email"])
    .where("e.id", "=", entitlementId)
    .execute();
  const buyer = facts?.user_email ?? facts?.email ?? "a buyer";
  const product = facts?.product_name ?? "a product";
  await alertSeller(ctx, {
    title: `Possibly shared: ${buyer}`,
    lead: `Downloads of ${product} by ${buyer} came from ${describeCounts(counts, settings)}. Their next download asks them to confirm by email that it is them; nothing is blocked. Look at the evidence, and clear the flag if you know it is fine.`,
    rows: [
      ["Buyer", buyer],
      ["Product", product],
      ["Networks", String(counts.networks)],
      ["Devices", String(counts.devices)],
      ["Links", [...new Set(signals.map((s) => linkLabel(s.link)))].join(", ")],
    ],
    pageUrl: "/admin/sharing",
  });
}

/** "6 networks (more than 5) and 2 devices in 24 hours". */
export function describeCounts(
  counts: { networks: number; devices: number },
  settings: Pick<SharingSettings, "networks" | "devices" | "windowHours">,
): string {
  const part = (n: number, limit: number, what: string) =>
    `${n} ${what}${n === 1 ? "" : "s"}${n > limit ? ` (more than ${limit})` : ""}`;
  return `${part(counts.networks, settings.networks, "network")} and ${part(counts.devices, settings.devices, "device")} in ${settings.windowHours} hours`;
}

/** A link as the seller reads it: `link tok_…`, `signed in`, `checkout page`. */
export function linkLabel(link: string): string {
  if (link.startsWith("token:")) return `link ${link.slice("token:".length)}`;
  if (link.startsWith("user:")) return "signed in";
  if (link.startsWith("order:")) return "checkout page";
  return link;
}

// --- The refusal: confirm it is you ----------------------------------------------------------

const REQUEST_PREFIX = "sharing-confirm\n";

async function requestSignature(ctx: Ctx, payload: string): Promise<string> {
  return toBase64Url(
    await ctx.crypto.hmacSha256(ctx.settings.linkSecret, `${REQUEST_PREFIX}${payload}`),
  );
}

/**
 * What the confirm page posts back: the flagged entitlement and flag, signed, so only someone a
 * download was refused to can ask for the mail (and it goes only to the buyer's own address).
 */
export async function confirmationRequest(
  ctx: Ctx,
  entitlementId: string,
  flaggedAt: number,
): Promise<string> {
  const payload = `${entitlementId}.${flaggedAt}`;
  return `${payload}.${await requestSignature(ctx, payload)}`;
}

/** The entitlement and flag a confirmation request names, or null when it is not one of ours. */
export async function readConfirmationRequest(
  ctx: Ctx,
  request: unknown,
): Promise<{ entitlementId: string; flaggedAt: number } | null> {
  if (typeof request !== "string" || request.length > 300) return null;
  const match = /^([\w-]+)\.(\d+)\.([\w-]+)$/.exec(request);
  if (!match) return null;
  const [, entitlementId, flaggedAt, signature] = match as unknown as [
    string,
    string,
    string,
    string,
  ];
  const expected = await requestSignature(ctx, `${entitlementId}.${flaggedAt}`);
  if (!timingSafeEqual(signature, expected)) return null;
  return { entitlementId, flaggedAt: Number(flaggedAt) };
}

export const CONFIRM_REQUIRED = "confirm_required";

/**
 * The refusal of a flagged buyer's download: a 403 whose page asks them to confirm by email
 * ("Confirm it's you"), and whose JSON names the code `confirm_required` and the next step.
 */
export async function confirmRequired(
  ctx: Ctx,
  entitlementId: string,
  flaggedAt: number,
): Promise<AppError> {
  const request = await confirmationRequest(ctx, entitlementId, flaggedAt);
  return new AppError("forbidden", CONFIRM_MESSAGE, {
    sharingConfirm: { request },
    answer: {
      code: CONFIRM_REQUIRED,
      next: {
        method: "POST",
        url: `${ctx.settings.publicUrl}/sharing/confirm`,
        body: { request },
        says: "Sends a one-time link to the buyer's own email address; opening it lets downloads go on.",
      },
    },
  });
}

export const CONFIRM_MESSAGE =
  "Your recent downloads came from more networks or devices than usual, so the shop asks you to confirm it is you before the next one. We can email a one-time link to the address of your purchase; opening it lets your download go on.";

/** Housekeeping: evidence older than the window counts for nothing and is deleted. */
export async function sweepSharingSignals(ctx: Ctx): Promise<number> {
  const { windowHours } = await sharingSettings(ctx);
  const result = await db(ctx)
    .deleteFrom("sharing_signals")
    .where("last_at", "<=", ctx.clock.now() - windowHours * 3600_000)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
