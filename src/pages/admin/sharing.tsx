import type { SharingSettings } from "../../core/downloads/sharing.ts";
import { linkLabel } from "../../core/downloads/sharing.ts";
import type { SharingFlagView } from "../../core/downloads/sharingFlags.ts";
import { Field } from "../field.tsx";
import { When } from "../shop.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { ActionButton, Badge, FormError, StackTable } from "./ui.tsx";

/**
 * "Possibly shared" (decision 0028): buyers whose downloads came from more networks or devices
 * than the shop allows, with the evidence, and a way to clear each flag.
 */
export function SharingPage(
  props: AdminPageProps & { flags: SharingFlagView[]; settings: SharingSettings },
) {
  const standing = props.flags.filter((f) => f.clearedAt === null);
  const cleared = props.flags.filter((f) => f.clearedAt !== null);
  const { settings } = props;
  return (
    <AdminLayout {...props} title="Possibly shared" section="sharing">
      <h1>Possibly shared</h1>
      <p class={settings.enabled ? "muted" : "notice"}>
        {settings.enabled
          ? `Sharing detection is on: a buyer is flagged when their downloads come from more than ${settings.networks} networks or ${settings.devices} devices within ${settings.windowHours} hours. Their next download asks them to confirm by email that it is them; nothing is blocked.`
          : "Sharing detection is off. Turn it on in the settings."}{" "}
        <a href="/admin/settings#sharing">Sharing detection settings</a>
      </p>
      <h2>Flagged now</h2>
      {standing.length === 0 ? (
        <p class="muted">Nobody is flagged.</p>
      ) : (
        standing.map((f) => <FlagCard flag={f} />)
      )}
      {cleared.length ? (
        <>
          <h2>Cleared</h2>
          {cleared.map((f) => (
            <FlagCard flag={f} />
          ))}
        </>
      ) : null}
    </AdminLayout>
  );
}

function FlagCard({ flag }: { flag: SharingFlagView }) {
  return (
    <section class="card" aria-label={`${flag.buyer}, ${flag.product.name}`}>
      <h3>
        {flag.buyer} <span class="muted">· {flag.product.name}</span>{" "}
        {flag.clearedAt === null ? (
          <Badge tone="warn">flagged</Badge>
        ) : (
          <Badge tone="muted">
            cleared by {flag.clearedBy === "buyer" ? "the buyer's confirmation" : "you"}
          </Badge>
        )}
      </h3>
      <p class="muted">
        Flagged <When at={flag.flaggedAt} /> with {flag.networks} network
        {flag.networks === 1 ? "" : "s"} and {flag.devices} device{flag.devices === 1 ? "" : "s"}
        {flag.clearedAt !== null ? (
          <>
            ; cleared <When at={flag.clearedAt} />
          </>
        ) : flag.confirmationSent ? (
          "; a confirmation link was mailed to the buyer"
        ) : (
          "; their next download asks them to confirm by email"
        )}
        .
      </p>
      <StackTable
        caption={`Evidence for ${flag.buyer}`}
        rows={flag.evidence}
        columns={[
          { label: "Network", cell: (e) => <code>{e.network}</code> },
          { label: "Device", cell: (e) => e.device },
          { label: "Through", cell: (e) => linkLabel(e.link) },
          { label: "Downloads", cell: (e) => String(e.downloads) },
          { label: "First", cell: (e) => <When at={e.firstAt} /> },
          { label: "Last", cell: (e) => <When at={e.lastAt} /> },
        ]}
        empty="No evidence kept."
      />
      {flag.clearedAt === null ? (
        <div class="actions">
          <ActionButton
            action={`/admin/sharing/${encodeURIComponent(flag.entitlementId)}/clear`}
            label="Clear the flag"
            secondary={false}
          />
          <a href={`/admin/customers?email=${encodeURIComponent(flag.buyer)}`}>The customer</a>
        </div>
      ) : null}
    </section>
  );
}

/** The settings page's section (settings.tsx renders it). */
export function SharingSettingsForm(props: {
  settings: SharingSettings;
  error?: string | null | undefined;
}) {
  const s = props.settings;
  return (
    <form method="post" action="/admin/settings/sharing" class="card">
      <FormError message={props.error} />
      <p class="muted">
        Off until you turn it on. When a buyer's downloads come from more networks (an IPv4 /24 or
        IPv6 /48, never a whole address is kept) or more devices (browser and system, like "Firefox
        on Windows") than you allow within the window, you get an alert and their next download asks
        them to confirm by email that it is them. A false alarm costs them one click; nothing is
        blocked silently. <a href="/admin/sharing">Possibly shared buyers</a>
      </p>
      <div class="field">
        <label>
          <input type="checkbox" name="enabled" value="on" checked={s.enabled} /> Detect possible
          sharing
        </label>
      </div>
      <Field
        id="sharing-networks"
        label="Networks allowed"
        input={{ name: "networks", type: "number", min: 1, max: 1000, value: String(s.networks) }}
        hint="Flagged past this many distinct networks in the window (home, work and a phone are three)."
      />
      <Field
        id="sharing-devices"
        label="Devices allowed"
        input={{ name: "devices", type: "number", min: 1, max: 1000, value: String(s.devices) }}
        hint="Flagged past this many distinct devices in the window."
      />
      <Field
        id="sharing-window"
        label="Window (hours)"
        input={{
          name: "windowHours",
          type: "number",
          min: 1,
          max: 720,
          value: String(s.windowHours),
        }}
        hint="Only downloads this recent count."
      />
      <div class="actions">
        <button type="submit">Save sharing detection</button>
      </div>
    </form>
  );
}
