import { readFile } from "node:fs/promises";
import type { Ctx } from "../../core/context.ts";
import { invalidInput } from "../../core/errors.ts";
import { type NoticeProgress, noticeProgress } from "../../core/releases/notices.ts";
import { listReleases, publishRelease } from "../../core/releases/releases.ts";
import { withRuntime } from "../run.ts";

/** `tollgate release add {slug} {version} --notes-file CHANGES.md [--notify]` */
export function releaseAdd(
  slug: string,
  version: string,
  opts: { notesFile?: string; notes?: string; notify?: boolean; json?: boolean },
) {
  return withRuntime(async ({ systemCtx: ctx, config }) => {
    let notes = opts.notes ?? "";
    if (opts.notesFile) {
      try {
        notes = await readFile(opts.notesFile, "utf8");
      } catch (error) {
        throw invalidInput(
          `Cannot read the notes file ${opts.notesFile}: ${(error as NodeJS.ErrnoException).code ?? error}.`,
        );
      }
    }
    const release = await publishRelease({
      ctx,
      input: { slug, release: { version, notes, notify: opts.notify === true } },
    });
    if (opts.json) {
      console.log(JSON.stringify(release, null, 2));
      return;
    }
    const { added, changed, removed } = release.changes;
    console.log(`Published ${slug} ${release.version}: ${release.files.length} file(s).`);
    console.log(
      `Changes: ${added.length} added, ${changed.length} changed, ${removed.length} removed.`,
    );
    for (const [label, names] of [
      ["+", added],
      ["~", changed],
      ["-", removed],
    ] as const)
      for (const name of names) console.log(`  ${label} ${name}`);
    if (release.notices) {
      console.log(
        `Update mails: ${release.notices.total} queued (progress also at ${config.publicUrl}/admin/products/${slug}/releases).`,
      );
      if (release.notices.total) await followNotices(ctx, release.id, release.notices.total);
    }
  });
}

/** "312 of 1,200 sent, 2 failed" (and the unsubscribed), as the seller's page says it. */
export function noticeLine(n: NoticeProgress): string {
  const count = (k: number) => k.toLocaleString("en-US");
  const parts = [`${count(n.sent)} of ${count(n.total)} sent`];
  if (n.failed) parts.push(`${count(n.failed)} failed`);
  if (n.skipped) parts.push(`${count(n.skipped)} unsubscribed`);
  return parts.join(", ");
}

/**
 * A progress bar until every update mail is settled: this process's own sender sends them (the
 * running shop's too, leases keep them apart). Interrupted, the rest is left to the running shop.
 */
async function followNotices(ctx: Ctx, releaseId: string, total: number): Promise<void> {
  const tty = process.stderr.isTTY;
  let last = "";
  for (;;) {
    const n = (await noticeProgress(ctx, [releaseId])).get(releaseId) as NoticeProgress;
    const done = n.sent + n.failed + n.skipped;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${noticeLine(n)}`;
    if (line !== last) {
      if (tty) process.stderr.write(`\r${line}`);
      else console.error(line);
      last = line;
    }
    if (done >= total) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (tty) process.stderr.write("\n");
}

/** `tollgate release list {slug}` */
export function releaseList(slug: string, opts: { json?: boolean }) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const releases = await listReleases({ ctx, input: { slug } });
    if (opts.json) {
      console.log(JSON.stringify(releases, null, 2));
      return;
    }
    if (!releases.length) console.log(`${slug} has no release yet.`);
    for (const r of releases) {
      const { added, changed, removed } = r.changes;
      console.log(
        `${r.version}\t${new Date(r.publishedAt).toISOString()}\t${r.files.length} file(s)\t+${added.length} ~${changed.length} -${removed.length}\t${r.notices ? noticeLine(r.notices) : "not mailed"}`,
      );
    }
  });
}
