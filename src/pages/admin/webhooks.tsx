import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { EventStatus } from "./statuses.tsx";
import { ActionButton, StackTable, shortTime } from "./ui.tsx";
import { WebhookTabs } from "./webhookEndpoints.tsx";

export interface WebhookEventRow {
  id: string;
  type: string;
  status: string;
  error: string | null;
  receivedAt: string | null;
  processedAt: string | null;
}

export const EVENT_FILTERS = ["failed", "flagged", "processed", "ignored"] as const;

export function WebhooksPage(
  props: AdminPageProps & {
    events: WebhookEventRow[];
    status: string;
    /** The event just replayed, to point it out. */
    replayed: WebhookEventRow | null;
  },
) {
  return (
    <AdminLayout {...props} title="Webhook events" section="webhooks">
      <h1>Webhook events</h1>
      <WebhookTabs current="incoming" />
      <p class="muted">
        What Stripe told the shop, and what the shop did with it. A failed event was not applied:
        Stripe retries it for up to three days, or you can replay it here once the cause is fixed.
        Replaying an event that was applied changes nothing.
      </p>
      {props.replayed ? (
        <p class="notice" role="status">
          <code>{props.replayed.type}</code> <code>{props.replayed.id}</code> is now{" "}
          <EventStatus status={props.replayed.status} />
          {props.replayed.error ? `: ${props.replayed.error}` : "."}
        </p>
      ) : null}
      <nav class="actions" aria-label="Filter events">
        <a href="/admin/webhooks" aria-current={props.status ? undefined : "page"}>
          All
        </a>
        {EVENT_FILTERS.map((s) => (
          <a
            href={`/admin/webhooks?status=${s}`}
            aria-current={props.status === s ? "page" : undefined}
          >
            {s === "failed" ? "Failed" : s[0]?.toUpperCase() + s.slice(1)}
          </a>
        ))}
      </nav>
      <StackTable
        caption={props.status ? `${props.status} webhook events` : "Webhook events, newest first"}
        rows={props.events}
        rowId={(e) => e.id}
        columns={[
          { label: "Received", cell: (e) => shortTime(e.receivedAt) },
          {
            label: "Event",
            kind: "title",
            cell: (e) => (
              <>
                <code>{e.type}</code>
                <br />
                <span class="muted">{e.id}</span>
              </>
            ),
          },
          { label: "Result", cell: (e) => <EventStatus status={e.status} /> },
          { label: "Note or error", kind: "wrap", cell: (e) => e.error ?? "" },
          { label: "Processed", cell: (e) => shortTime(e.processedAt) },
          {
            label: "Actions",
            kind: "buttons",
            cell: (e) => (
              <ActionButton
                action={`/admin/webhooks/${encodeURIComponent(e.id)}/replay`}
                label="Replay"
                confirm={`Replay ${e.type}? The shop applies it again; an event already applied changes nothing.`}
              />
            ),
          },
        ]}
        empty={
          props.status === "failed"
            ? "No failed events. Everything Stripe sent has been applied."
            : "No events here yet. They arrive when Stripe sends them to /webhooks/stripe."
        }
      />
    </AdminLayout>
  );
}
