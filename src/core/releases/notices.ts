/**
 * Update mails of a release (decision 0018): one per address with active access when the release
 * is published, queued in the release's transaction (release_notices) and sent by the background
 * sender under leases, as receipts are (decision 0011).
 */
import type { Release, Trx } from "../../db/schema.ts";
import { type Ctx, db } from "../context.ts";

export interface NoticeProgress {
  total: number;
  sent: number;
  failed: number;
  /** Unsubscribed before their turn came. */
  skipped: number;
}

/** Queues one notice per address with active access to the release's product; how many. */
export async function queueNotices(ctx: Ctx & { trx: Trx }, release: Release): Promise<number> {
  const now = release.created_at;
  const holders = await db(ctx)
    .selectFrom("entitlements")
    .leftJoin("users", "users.id", "entitlements.user_id")
    .select(["users.email as user_email", "entitlements.email as email"])
    .where("entitlements.product_id", "=", release.product_id)
    .where("entitlements.status", "=", "active")
    .where("entitlements.starts_at", "<=", now)
    .where((eb) =>
      eb.or([eb("entitlements.ends_at", "is", null), eb("entitlements.ends_at", ">", now)]),
    )
    .execute();
  const emails = [
    ...new Set(
      holders.flatMap((h) => ((h.user_email ?? h.email) ? [h.user_email ?? h.email] : [])),
    ),
  ] as string[];
  if (!emails.length) return 0;
  const unsubscribed = new Set(
    (
      await db(ctx)
        .selectFrom("mail_unsubscribes")
        .select("email")
        .where("email", "in", emails)
        .execute()
    ).map((u) => u.email),
  );
  const rows = emails
    .filter((email) => !unsubscribed.has(email))
    .map((email) => ({
      release_id: release.id,
      email,
      status: "queued" as const,
      due_at: now,
      lease_until: null,
      attempts: 0,
      last_error: null,
      sent_at: null,
      created_at: now,
    }));
  for (let i = 0; i < rows.length; i += 500)
    await db(ctx)
      .insertInto("release_notices")
      .values(rows.slice(i, i + 500))
      .execute();
  return rows.length;
}

/** Each release's count of notices by outcome. */
export async function noticeProgress(
  ctx: Ctx,
  releaseIds: string[],
): Promise<Map<string, NoticeProgress>> {
  const found = new Map<string, NoticeProgress>();
  if (!releaseIds.length) return found;
  const rows = await db(ctx)
    .selectFrom("release_notices")
    .select(["release_id", "status", (eb) => eb.fn.countAll<number>().as("n")])
    .where("release_id", "in", releaseIds)
    .groupBy(["release_id", "status"])
    .execute();
  for (const id of releaseIds) found.set(id, { total: 0, sent: 0, failed: 0, skipped: 0 });
  for (const row of rows) {
    const p = found.get(row.release_id) as NoticeProgress;
    const n = Number(row.n);
    p.total += n;
    if (row.status === "sent") p.sent += n;
    if (row.status === "failed") p.failed += n;
    if (row.status === "skipped") p.skipped += n;
  }
  return found;
}
