import { Field } from "../field.tsx";
import { formatDate } from "../format.ts";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { Badge, DataTable } from "./ui.tsx";

export interface DownloadRow {
  id: string;
  createdAt: number;
  product: string;
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
      <DataTable
        caption="Downloads, newest first"
        head={["When", "Product", "File", "Who", "Through", "IP address"]}
        empty={props.email ? "No downloads by this email." : "Nobody has downloaded anything yet."}
      >
        {props.downloads.map((d) => (
          <tr>
            <td>{formatDate(d.createdAt)}</td>
            <td>{d.product}</td>
            <td>{d.filename}</td>
            <td>{d.who ?? "—"}</td>
            <td>
              <Badge tone="muted">{d.via === "link" ? "download link" : "library"}</Badge>
            </td>
            <td title={d.userAgent ?? undefined}>{d.ip ?? "—"}</td>
          </tr>
        ))}
      </DataTable>
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
