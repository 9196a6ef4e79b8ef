import type { Kysely } from "kysely";

// Issue 19, point 1 (resumable uploads): no table. An upload's state is its HMAC-signed upload id
// (held by the client: the CLI's state file, the seller page's localStorage) plus the parts the
// store itself lists (S3 ListParts, the local folder's `<key>.parts/`), so there is nothing to
// keep in the database and nothing to clean up after a crash (decision 0025). The slot stays, a
// no-op, so the migrations after it keep their numbers.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(_db: Kysely<any>): Promise<void> {}
