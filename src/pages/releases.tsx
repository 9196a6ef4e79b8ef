/** A product's releases as its buyer sees them in the library (decision 0018). */
import type { LibraryReleases } from "../core/releases/buyerReleases.ts";
import type { ReleaseChanges, ReleaseView } from "../core/releases/manifest.ts";
import { Field } from "./field.tsx";
import { formatBytes } from "./format.ts";
import { renderMarkdown } from "./markdown.ts";
import { When } from "./shop.tsx";

export function LibraryReleaseBlock(props: { slug: string; releases: LibraryReleases }) {
  const { current, earlier, changesUrl } = props.releases;
  const id = `rel-${props.slug}`;
  return (
    <section class="release" aria-labelledby={id}>
      <h3 id={id}>
        Current release {current.version}{" "}
        <span class="muted">
          · <When at={current.publishedAt} />
        </span>
      </h3>
      <ReleaseNotes notes={current.notes} />
      <Changes changes={current.changes} />
      {earlier.length ? (
        <form method="get" action={changesUrl} class="row">
          <Field id={`${id}-since`} label="Download only what changed since">
            <select id={`${id}-since`} name="since">
              {earlier.map((r) => (
                <option value={r.version}>{r.version}</option>
              ))}
            </select>
          </Field>
          <p>
            <button type="submit" class="btn">
              Download what changed (zip)
            </button>
          </p>
        </form>
      ) : null}
      <details>
        <summary>Manifest of {current.version}</summary>
        <ul class="manifest">
          {current.files.map((f) => (
            <li>
              <span class="name">{f.filename}</span>{" "}
              <span class="muted">{formatBytes(f.size)} · SHA-256</span> <code>{f.sha256}</code>
            </li>
          ))}
        </ul>
      </details>
      {earlier.length ? (
        <details>
          <summary>Earlier releases ({earlier.length})</summary>
          {earlier.map((r) => (
            <EarlierRelease release={r} />
          ))}
        </details>
      ) : null}
    </section>
  );
}

function EarlierRelease({ release }: { release: ReleaseView }) {
  return (
    <div>
      <h4>
        {release.version}{" "}
        <span class="muted">
          · <When at={release.publishedAt} />
        </span>
      </h4>
      <ReleaseNotes notes={release.notes} />
      <Changes changes={release.changes} />
    </div>
  );
}

export function ReleaseNotes({ notes }: { notes: string }) {
  if (!notes.trim()) return null;
  return <div class="prose" dangerouslySetInnerHTML={{ __html: renderMarkdown(notes) }} />;
}

/** "Added a.txt · Changed b.txt · Removed c.txt", or that nothing changed. */
export function Changes({ changes }: { changes: ReleaseChanges }) {
  const parts = (
    [
      ["Added", changes.added],
      ["Changed", changes.changed],
      ["Removed", changes.removed],
    ] as const
  ).filter(([, names]) => names.length);
  if (!parts.length) return <p class="muted">No file changed.</p>;
  return (
    <p class="changes">
      {parts.map(([label, names], i) => (
        <>
          {i ? " · " : ""}
          <strong>{label}</strong> {names.join(", ")}
        </>
      ))}
    </p>
  );
}
