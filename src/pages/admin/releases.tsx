import type { ReleaseWithProgress } from "../../core/releases/releases.ts";
import type { Product } from "../../db/schema.ts";
import { Field } from "../field.tsx";
import { Changes } from "../releases.tsx";
import { When } from "../shop.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { FormError, StackTable } from "./ui.tsx";

export interface ReleaseFormValues {
  version: string;
  notes: string;
  notify: boolean;
}

const count = (n: number) => n.toLocaleString("en-US");

/** "312 of 1,200 sent, 2 failed", or that nobody was to be mailed. */
export function noticeText(n: ReleaseWithProgress["notices"]): string {
  if (!n) return "Not mailed";
  if (n.total === 0) return "Nobody to mail";
  const parts = [`${count(n.sent)} of ${count(n.total)} sent`];
  if (n.failed) parts.push(`${count(n.failed)} failed`);
  if (n.skipped) parts.push(`${count(n.skipped)} unsubscribed`);
  return parts.join(", ");
}

/** A product's releases: publish one, see each one's changes and its update mails' progress. */
export function ReleasesPage(
  props: AdminPageProps & {
    product: Pick<Product, "slug" | "name">;
    releases: ReleaseWithProgress[];
    values: ReleaseFormValues;
    error?: string | null;
  },
) {
  const p = props.product;
  const v = props.values;
  return (
    <AdminLayout {...props} title={`Releases of ${p.name}`} section="products">
      <p>
        <a href={`/admin/products/${p.slug}`}>← {p.name}</a>
      </p>
      <h1>Releases of {p.name}</h1>
      <section class="card" aria-labelledby="new-release">
        <h2 id="new-release" style="margin-top:0">
          Publish a release
        </h2>
        <p class="muted">
          A release records the product's files as they are now, with your notes and what changed
          since the previous one. Buyers see it in their library and can download only what changed.
        </p>
        <form method="post" action={`/admin/products/${p.slug}/releases`}>
          <FormError message={props.error} />
          <Field
            id="version"
            label="Version"
            hint="For example 1.2 or 2024.05; each version once."
            input={{ name: "version", type: "text", value: v.version, required: true }}
          />
          <Field id="notes" label="Notes" hint="Markdown: what is new, what was fixed.">
            <textarea id="notes" name="notes" rows={6} aria-describedby="notes-help">
              {v.notes}
            </textarea>
          </Field>
          <div class="field">
            <label>
              <input type="checkbox" name="notify" value="true" checked={v.notify} /> Mail every
              buyer who has access now
            </label>
          </div>
          <button type="submit">Publish release</button>
        </form>
      </section>
      <h2>Published</h2>
      <StackTable
        caption={`Releases of ${p.name}`}
        rows={props.releases}
        empty="No release yet."
        rowId={(r) => `release-${r.version}`}
        columns={[
          { label: "Version", kind: "title", cell: (r) => <strong>{r.version}</strong> },
          { label: "Published", cell: (r) => <When at={r.publishedAt} /> },
          { label: "Changes", kind: "wrap", cell: (r) => <Changes changes={r.changes} /> },
          { label: "Files", cell: (r) => String(r.files.length) },
          {
            label: "Update mails",
            cell: (r) => <span class="notices">{noticeText(r.notices)}</span>,
          },
        ]}
      />
    </AdminLayout>
  );
}
