import type { Kysely } from "kysely";

// Reserved for issue 19 (filled by the change that needs it).
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(_db: Kysely<any>): Promise<void> {}
