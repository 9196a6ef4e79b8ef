import { readFile } from "node:fs/promises";
import { invalidInput } from "../../core/errors.ts";
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
    if (release.notices)
      console.log(
        `Update mails: ${release.notices.total} queued (progress at ${config.publicUrl}/admin/products/${slug}/releases).`,
      );
  });
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
        `${r.version}\t${new Date(r.publishedAt).toISOString()}\t${r.files.length} file(s)\t+${added.length} ~${changed.length} -${removed.length}`,
      );
    }
  });
}
