import type { Kysely } from "kysely";

// A delivery link may end a set time after its first use as well as at its absolute time
// (issue 18, decision 0022): the window in seconds, and when the link was first used. The first
// use also brings expires_at forward to the earlier of the two ends, so every reader of
// expires_at keeps deciding alone.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("delivery_tokens")
    .addColumn("expires_after_first_use", "integer")
    .execute();
  await db.schema.alterTable("delivery_tokens").addColumn("first_used_at", "bigint").execute();
}
