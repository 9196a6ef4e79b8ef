import type { ShopProfileTable } from "../db/schema.ts";
import { type Ctx, db } from "./context.ts";

/** What reading shop settings takes: they are read outside any transaction (pages, mails). */
export type SettingsReader = Pick<Ctx, "db" | "settings">;

/** Settings the seller saves in shop_profile are kept this long per process, and forgotten on a save. */
const MAX_AGE_MS = 1000;

/**
 * A shop setting kept in shop_profile and read by many requests (the profile on every page,
 * Checkout's settings on every checkout, sharing detection on every download): one read a second
 * per process and database, forgotten when this process saves, so other processes see a change
 * within a second. A failed read is not kept: the next request tries again.
 */
export function shopSetting<T, Reader extends Pick<Ctx, "db"> = SettingsReader>(
  load: (ctx: Reader) => Promise<T>,
) {
  const kept = new WeakMap<object, { at: number; value: Promise<T> }>();
  return {
    read(ctx: Reader): Promise<T> {
      const entry = kept.get(ctx.db);
      const now = performance.now();
      if (entry && now - entry.at < MAX_AGE_MS) return entry.value;
      const value = load(ctx);
      kept.set(ctx.db, { at: now, value });
      value.catch(() => kept.get(ctx.db)?.value === value && kept.delete(ctx.db));
      return value;
    },
    /** Writes the seller's values (the one shop_profile row, made on the first save). */
    async save(ctx: Ctx, values: Partial<Omit<ShopProfileTable, "id" | "updated_at">>) {
      const updated_at = ctx.clock.now();
      await db(ctx)
        .insertInto("shop_profile")
        .values({ id: 1, ...values, updated_at })
        .onConflict((oc) => oc.column("id").doUpdateSet({ ...values, updated_at }))
        .execute();
      kept.delete(ctx.db);
    },
  };
}
