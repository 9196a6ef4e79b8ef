import { type Kysely, type Migration, type MigrationResult, Migrator, sql } from "kysely";
import * as m0001 from "./migrations/0001_initial.ts";
import * as m0002 from "./migrations/0002_seller_indexes.ts";
import * as m0003 from "./migrations/0003_receipt_delivered.ts";
import * as m0004 from "./migrations/0004_download_continuations.ts";
import * as m0005 from "./migrations/0005_receipt_bounces.ts";
import * as m0006 from "./migrations/0006_clean_bidi_filenames.ts";
import * as m0007 from "./migrations/0007_receipt_queue.ts";
import * as m0008 from "./migrations/0008_job_leases.ts";
import * as m0009 from "./migrations/0009_licenses.ts";
import * as m0010 from "./migrations/0010_refund_notices.ts";
import * as m0011 from "./migrations/0011_product_cover.ts";
import * as m0012 from "./migrations/0012_shop_profile.ts";
import * as m0013 from "./migrations/0013_order_receipt_links.ts";
import * as m0014 from "./migrations/0014_webhook_endpoints.ts";
import * as m0015 from "./migrations/0015_releases.ts";
import * as m0016 from "./migrations/0016_access_history.ts";
import * as m0017 from "./migrations/0017_grace_policy.ts";
import * as m0018 from "./migrations/0018_download_limits.ts";
import * as m0019 from "./migrations/0019_link_first_use.ts";
import * as m0020 from "./migrations/0020_delivery_watchdog.ts";
import * as m0021 from "./migrations/0021_email_corrections.ts";
import * as m0022 from "./migrations/0022_resumable_uploads.ts";
import * as m0023 from "./migrations/0023_pdf_stamping.ts";
import * as m0024 from "./migrations/0024_malware_scans.ts";
import * as m0025 from "./migrations/0025_sharing_signals.ts";
import * as m0026 from "./migrations/0026_tax_discounts.ts";
import type { Database, Db } from "./schema.ts";

// Imported statically so the Workers bundle carries them too.
export const migrations: Record<string, Migration> = {
  "0001_initial": m0001,
  "0002_seller_indexes": m0002,
  "0003_receipt_delivered": m0003,
  "0004_download_continuations": m0004,
  "0005_receipt_bounces": m0005,
  "0006_clean_bidi_filenames": m0006,
  "0007_receipt_queue": m0007,
  "0008_job_leases": m0008,
  "0009_licenses": m0009,
  "0010_refund_notices": m0010,
  "0011_product_cover": m0011,
  "0012_shop_profile": m0012,
  "0013_order_receipt_links": m0013,
  "0014_webhook_endpoints": m0014,
  "0015_releases": m0015,
  "0016_access_history": m0016,
  "0017_grace_policy": m0017,
  "0018_download_limits": m0018,
  "0019_link_first_use": m0019,
  "0020_delivery_watchdog": m0020,
  "0021_email_corrections": m0021,
  "0022_resumable_uploads": m0022,
  "0023_pdf_stamping": m0023,
  "0024_malware_scans": m0024,
  "0025_sharing_signals": m0025,
  "0026_tax_discounts": m0026,
};

const PG_MIGRATION_LOCK = 7_413_100; // any constant; shared by every Tollgate process

type Dialect = "sqlite" | "postgres";

/**
 * Brings the schema up to date. Safe to run from several processes at once: on Postgres they
 * queue on an advisory lock, on SQLite on the write lock.
 */
export async function migrateToLatest(db: Db, dialect: Dialect): Promise<string[]> {
  const run = async (conn: Kysely<Database>) => {
    const { error, results } = await (await migratorFor(conn, dialect)).migrateToLatest();
    if (error) throw error;
    return (results ?? [])
      .filter((r: MigrationResult) => r.status === "Success")
      .map((r) => r.migrationName);
  };
  if (dialect === "sqlite") return run(db);
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${PG_MIGRATION_LOCK})`.execute(conn);
    try {
      return await run(conn);
    } finally {
      await sql`select pg_advisory_unlock(${PG_MIGRATION_LOCK})`.execute(conn);
    }
  });
}

/**
 * Names of the migrations this database has not run yet, read from Kysely's bookkeeping table
 * directly: the Migrator itself would add 5 KB to the Worker, which only asks (doctor's checks).
 */
export async function pendingMigrations(db: Db, dialect: Dialect): Promise<string[]> {
  const exists =
    dialect === "postgres"
      ? sql<{ found: string | null }>`select to_regclass('kysely_migration')::text as found`
      : sql<{
          found: string | null;
        }>`select name as found from sqlite_master where type = 'table' and name = 'kysely_migration'`;
  const found = (await exists.execute(db)).rows[0]?.found;
  const done = found
    ? (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows
    : [];
  const executed = new Set(done.map((row) => row.name));
  return Object.keys(migrations).filter((name) => !executed.has(name));
}

async function migratorFor(db: Kysely<Database>, dialect: Dialect): Promise<Migrator> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one is ours.
  const schema =
    dialect === "postgres"
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
          ?.schema
      : undefined;
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}
