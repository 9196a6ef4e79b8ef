import { Field } from "../field.tsx";

import { When } from "../shop.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { Badge, StackTable } from "./ui.tsx";

export interface DownloadRow {
  id: string;
  createdAt: number;
  productName: string;
  filename: string;
  who: string | null;
  via: "library" | "link";
  ip: string | null;
  userAgent: string | null;
}

export function DownloadsPage(
  props: AdminPageProps & { downloads: DownloadRow[]; email: string; limit: number },
) {
  return (
    <AdminLayout {...props} title="Downloads" section="downloads">
      <h1>Downloads</h1>
      <p class="muted">
        Every file a buyer downloaded, newest first. A download resumed in pieces counts once.
      </p>
      <form method="get" action="/admin/downloads" class="card">
        <Field
          id="downloads-email"
          label="Customer email"
          input={{ name: "email", type: "text", inputmode: "email", value: props.email }}
        />
        <div class="actions">
          <button type="submit">Show downloads</button>
          {props.email ? <a href="/admin/downloads">Everyone's downloads</a> : null}
        </div>
      </form>
      <StackTable
        caption="Downloads, newest first"
        rows={props.downloads}
        columns={[
          { label: "When", cell: (d) => <When at={d.createdAt} /> },
          { label: "Product", kind: "title", cell: (d) => d.productName },
          { label: "File", cell: (d) => d.filename },
          { label: "Who", kind: "wrap", cell: (d) => d.who ?? "—" },
          {
            label: "Through",
            cell: (d) => (
              <Badge tone="muted">{d.via === "link" ? "download link" : "library"}</Badge>
            ),
          },
          {
            label: "IP address",
            cell: (d) => <span title={d.userAgent ?? undefined}>{d.ip ?? "—"}</span>,
          },
        ]}
        empty={props.email ? "No downloads by this email." : "Nobody has downloaded anything yet."}
      />
      {props.downloads.length === props.limit ? (
        <p class="muted">
          Showing the latest {props.limit}.{" "}
          {props.limit < 1000 ? (
            <a
              href={`/admin/downloads?${new URLSearchParams({
                ...(props.email ? { email: props.email } : {}),
                limit: String(Math.min(1000, props.limit * 4)),
              })}`}
            >
              Show more
            </a>
          ) : null}
        </p>
      ) : null}
    </AdminLayout>
  );
}
