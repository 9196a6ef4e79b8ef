import type { Kysely } from "kysely";

// One row per periodic job (sweep, reconcile): several Node processes on one database each tick,
// and only the one whose claim updates the row runs the pass (decision 0012). `locked_until` is the
// lease of the process running it (renewed while it runs, given back when it ends, taken over
// after it lapses if that process died); `next_run_at` spaces the passes one interval apart
// whichever process runs them.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("job_leases")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("locked_until", "bigint", (c) => c.notNull())
    .addColumn("next_run_at", "bigint", (c) => c.notNull())
    .addColumn("runs", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}
