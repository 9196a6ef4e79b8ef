import type { Kysely } from "kysely";

// File names stored before uploads dropped bidirectional-text controls (U+202A-202E, U+2066-2069,
// U+200E/200F, U+061C) lose them now, so pages, receipts and library lists never show
// "invoice<RLO>fdp.exe" as "invoiceexe.pdf". The pattern is written out here, not imported: a
// migration must do the same thing whatever today's code says.
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types
export async function up(db: Kysely<any>): Promise<void> {
  const assets: { id: string; filename: string }[] = await db
    .selectFrom("assets")
    .select(["id", "filename"])
    .execute();
  for (const { id, filename } of assets) {
    const clean = filename.replace(BIDI_CONTROLS, "");
    if (clean === filename) continue;
    await db
      .updateTable("assets")
      .set({ filename: clean || "download" })
      .where("id", "=", id)
      .execute();
  }
}
