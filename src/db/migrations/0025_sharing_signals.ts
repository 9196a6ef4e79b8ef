import type { Kysely } from "kysely";

// Sharing detection, soft (issue 19, point 4; decision 0028). Off until the seller turns it on.
//
// shop_profile.sharing_*: the seller's settings (null: the configuration's default).
// entitlements.sharing_flagged_at: set when the buyer went past the threshold; their next download
//   asks them to confirm by email. Null: not flagged. On the entitlement row, so every download
//   path reads it with the row it already reads (no query of its own).
// sharing_signals: the evidence, one row per entitlement, link, network and device: the network is
//   a prefix (IPv4 /24, IPv6 /48), never a whole address; the device a coarse label of the
//   User-Agent ("Firefox on Windows"). One upsert per new download; rows older than the window
//   count for nothing and are deleted by housekeeping.
// sharing_flags: one row per episode (flag to clear): the evidence when it was flagged, the
//   one-time confirmation link's hash, and who cleared it and when.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("shop_profile").addColumn("sharing_detection", "integer").execute();
  await db.schema.alterTable("shop_profile").addColumn("sharing_networks", "integer").execute();
  await db.schema.alterTable("shop_profile").addColumn("sharing_devices", "integer").execute();
  await db.schema.alterTable("shop_profile").addColumn("sharing_window_hours", "integer").execute();
  await db.schema.alterTable("entitlements").addColumn("sharing_flagged_at", "bigint").execute();
  await db.schema
    .createTable("sharing_signals")
    .addColumn("entitlement_id", "text", (c) =>
      c.notNull().references("entitlements.id").onDelete("cascade"),
    )
    .addColumn("link", "text", (c) => c.notNull())
    .addColumn("network", "text", (c) => c.notNull())
    .addColumn("device", "text", (c) => c.notNull())
    .addColumn("first_at", "bigint", (c) => c.notNull())
    .addColumn("last_at", "bigint", (c) => c.notNull())
    .addColumn("downloads", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("sharing_signals_pk", ["entitlement_id", "link", "network", "device"])
    .execute();
  await db.schema
    .createIndex("sharing_signals_last_at")
    .on("sharing_signals")
    .column("last_at")
    .execute();
  await db.schema
    .createTable("sharing_flags")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("entitlement_id", "text", (c) =>
      c.notNull().references("entitlements.id").onDelete("cascade"),
    )
    .addColumn("flagged_at", "bigint", (c) => c.notNull())
    .addColumn("networks", "integer", (c) => c.notNull())
    .addColumn("devices", "integer", (c) => c.notNull())
    .addColumn("evidence", "text", (c) => c.notNull())
    .addColumn("confirm_hash", "text")
    .addColumn("confirm_expires_at", "bigint")
    .addColumn("cleared_at", "bigint")
    .addColumn("cleared_by", "text")
    .execute();
  await db.schema
    .createIndex("sharing_flags_entitlement")
    .on("sharing_flags")
    .columns(["entitlement_id", "flagged_at"])
    .unique()
    .execute();
  await db.schema
    .createIndex("sharing_flags_confirm")
    .on("sharing_flags")
    .column("confirm_hash")
    .execute();
}
