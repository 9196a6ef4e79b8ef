import type { Child } from "hono/jsx";
import { Field } from "../field.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { ActionButton, Badge, FormError, StackTable, shortTime } from "./ui.tsx";

/** Outgoing webhooks in /admin (decision 0017): endpoints, and each one's delivery log. */

export interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
}

export interface DeliveryRow {
  id: string;
  type: string;
  status: string;
  attempts: number;
  responseStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

const EVENT_HINTS: Record<string, string> = {
  "order.paid": "an order is paid",
  "order.refunded": "an order is refunded",
  "access.granted": "someone gets access (purchase, grant, free claim)",
  "access.revoked": "access is taken away",
  "release.published": "you publish a release",
  "license.activated": "a licence key is activated on a machine",
  "license.deactivated": "a machine's activation is freed",
  "license.revoked": "you revoke a licence key",
};

function EndpointStatus({ e }: { e: EndpointRow }) {
  if (!e.enabled) return <Badge tone="bad">Disabled</Badge>;
  if (e.failingSince) return <Badge tone="warn">Failing</Badge>;
  return <Badge tone="ok">Active</Badge>;
}

function DeliveryStatus({ status }: { status: string }) {
  if (status === "delivered") return <Badge tone="ok">Delivered</Badge>;
  if (status === "failed") return <Badge tone="bad">Gave up</Badge>;
  return <Badge tone="warn">Pending</Badge>;
}

const Tabs = ({ current }: { current: "incoming" | "outgoing" }) => (
  <nav class="actions" aria-label="Webhooks">
    <a href="/admin/webhooks" aria-current={current === "incoming" ? "page" : undefined}>
      From Stripe
    </a>
    <a href="/admin/webhooks/endpoints" aria-current={current === "outgoing" ? "page" : undefined}>
      Outgoing endpoints
    </a>
  </nav>
);
export const WebhookTabs = Tabs;

export function WebhookEndpointsPage(
  props: AdminPageProps & {
    endpoints: EndpointRow[];
    eventTypes: readonly string[];
    values: { url: string; events: string[] };
    error?: string | null;
    /** The endpoint just registered, with its secret: shown this once. */
    created?: (EndpointRow & { secret: string }) | null;
  },
) {
  return (
    <AdminLayout {...props} title="Outgoing webhooks" section="webhooks">
      <h1>Outgoing webhooks</h1>
      <Tabs current="outgoing" />
      <p class="muted">
        Your own systems hear what happens in the shop: each event is posted to the endpoints that
        want it, signed as Standard Webhooks says, and retried for three days.
      </p>
      {props.created ? <Created endpoint={props.created} /> : null}
      <StackTable
        caption="Outgoing webhook endpoints"
        rows={props.endpoints}
        rowId={(e) => e.id}
        columns={[
          {
            label: "Endpoint",
            kind: "title",
            cell: (e) => <a href={`/admin/webhooks/endpoints/${e.id}`}>{e.url}</a>,
          },
          { label: "Status", cell: (e) => <EndpointStatus e={e} /> },
          { label: "Events", kind: "wrap", cell: (e) => e.events.join(", ") },
          { label: "Added", cell: (e) => shortTime(e.createdAt) },
        ]}
        empty="No endpoints yet. Add one below to have events posted to it."
      />
      <form
        method="post"
        action="/admin/webhooks/endpoints"
        class="card"
        aria-labelledby="new-endpoint"
      >
        <h2 id="new-endpoint">Add an endpoint</h2>
        <FormError message={props.error} />
        <Field
          id="endpoint-url"
          label="URL"
          input={{
            name: "url",
            type: "url",
            required: true,
            value: props.values.url,
            placeholder: "https://example.com/tollgate-webhooks",
          }}
          hint="It must answer 2xx within 10 seconds. Redirects are not followed."
        />
        <EventChoices types={props.eventTypes} chosen={props.values.events} />
        <button type="submit">Add endpoint</button>
      </form>
    </AdminLayout>
  );
}

function EventChoices(props: { types: readonly string[]; chosen: string[] }) {
  return (
    <fieldset class="field" style="border:0;padding:0;margin:0 0 12px">
      <legend>Events</legend>
      {props.types.map((t) => (
        <div>
          <label>
            <input
              type="checkbox"
              name={`event:${t}`}
              value="on"
              checked={props.chosen.includes(t)}
            />{" "}
            <code>{t}</code>: {EVENT_HINTS[t] ?? ""}
          </label>
        </div>
      ))}
    </fieldset>
  );
}

function Created({ endpoint }: { endpoint: EndpointRow & { secret: string } }) {
  return (
    <section class="notice ok" aria-labelledby="created" role="status">
      <h2 id="created" style="margin-top:0">
        Endpoint added
      </h2>
      <p>
        Events go to {endpoint.url}. Verify them with this signing secret and any Standard Webhooks
        library.
      </p>
      <Field id="created-secret" label="Signing secret">
        <div class="actions">
          <input id="created-secret" type="text" readonly value={endpoint.secret} class="copy" />
          <button type="button" class="secondary small" data-copy="created-secret">
            Copy secret
          </button>
        </div>
      </Field>
      <p class="muted" style="margin:0">
        Copy it now: it is shown only this once.
      </p>
    </section>
  );
}

export function WebhookEndpointPage(
  props: AdminPageProps & { endpoint: EndpointRow; deliveries: DeliveryRow[] },
) {
  const e = props.endpoint;
  const facts: [string, Child][] = [
    ["Status", <EndpointStatus e={e} />],
    ["Events", e.events.join(", ")],
    ["Added", shortTime(e.createdAt)],
  ];
  if (e.disabledReason) facts.push(["Why disabled", e.disabledReason]);
  if (e.failingSince) facts.push(["Failing since", shortTime(e.failingSince)]);
  return (
    <AdminLayout {...props} title="Webhook endpoint" section="webhooks">
      <p>
        <a href="/admin/webhooks/endpoints">All endpoints</a>
      </p>
      <h1 style="overflow-wrap:anywhere">{e.url}</h1>
      {facts.map(([k, v]) => (
        <p style="margin:0 0 6px">
          <strong>{k}:</strong> {v}
        </p>
      ))}
      <div class="actions">
        <ActionButton
          action={`/admin/webhooks/endpoints/${e.id}/${e.enabled ? "disable" : "enable"}`}
          label={e.enabled ? "Disable" : "Enable"}
        />
        <ActionButton
          action={`/admin/webhooks/endpoints/${e.id}/delete`}
          label="Delete"
          confirm="Delete this endpoint and its delivery log? Events stop going to it."
        />
      </div>
      <h2>Deliveries</h2>
      <StackTable
        caption="Deliveries, newest first"
        rows={props.deliveries}
        rowId={(d) => d.id}
        columns={[
          {
            label: "Event",
            kind: "title",
            cell: (d) => (
              <>
                <code>{d.type}</code>
                <br />
                <span class="muted">{d.id}</span>
              </>
            ),
          },
          { label: "Status", cell: (d) => <DeliveryStatus status={d.status} /> },
          { label: "Response", cell: (d) => (d.responseStatus ? String(d.responseStatus) : "—") },
          { label: "Attempts", cell: (d) => String(d.attempts) },
          { label: "Last try", cell: (d) => shortTime(d.lastAttemptAt) },
          { label: "Error", kind: "wrap", cell: (d) => d.lastError ?? "" },
          {
            label: "Actions",
            kind: "buttons",
            cell: (d) => (
              <ActionButton
                action={`/admin/webhooks/deliveries/${encodeURIComponent(d.id)}/replay`}
                label="Replay"
                fields={{ endpoint: e.id }}
              />
            ),
          },
        ]}
        empty="No deliveries yet. They appear here when an event it wants happens."
      />
    </AdminLayout>
  );
}
