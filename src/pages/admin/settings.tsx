import type { SharingSettings } from "../../core/downloads/sharing.ts";
import { publicImageUrl } from "../../core/images/publicImages.ts";
import type { CheckoutSettings } from "../../core/shop/checkoutSettings.ts";
import { MAX_LOGO_BYTES } from "../../core/shop/profile.ts";
import { Field } from "../field.tsx";
import { formatBytes } from "../format.ts";
import { CheckoutSettingsForm } from "./checkoutSettings.tsx";
import type { Diagnosis, HealthStatus } from "./diagnosis.ts";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { SharingSettingsForm } from "./sharing.tsx";
import { Badge, FormError } from "./ui.tsx";

const TONE: Record<HealthStatus, { tone: "ok" | "warn" | "bad"; label: string }> = {
  ok: { tone: "ok", label: "ok" },
  warn: { tone: "warn", label: "check" },
  fail: { tone: "bad", label: "problem" },
};

/** What the seller typed into the shop form, shown again with the reason when it was refused. */
export interface ShopForm {
  name: string;
  supportEmail: string;
  timeZone: string;
}

export function SettingsPage(
  props: AdminPageProps & {
    diagnosis: Diagnosis | null;
    /** The IANA zones this runtime knows, for the time zone choice. */
    timeZones: string[];
    /** A refused save: the message and what was typed. */
    shopError?: { message: string; form: ShopForm } | null;
    logoError?: string | null;
    /** Sharing detection's settings in force (decision 0028), and a refused save's reason. */
    sharing: SharingSettings;
    sharingError?: string | null;
    /** What Stripe Checkout does beyond the payment (decision 0029), and a refused save's reason. */
    checkout: CheckoutSettings;
    checkoutError?: string | null;
  },
) {
  const checks = props.diagnosis?.checks ?? [];
  const problems = checks.filter((c) => c.status === "fail").length;
  const form: ShopForm = props.shopError?.form ?? {
    name: props.shop.name,
    supportEmail: props.shop.supportEmail ?? "",
    timeZone: props.shop.timeZone,
  };
  const zones = props.timeZones.includes(form.timeZone)
    ? props.timeZones
    : [form.timeZone, ...props.timeZones];
  return (
    <AdminLayout {...props} title="Settings" section="settings">
      <h1>Settings</h1>
      <h2 id="shop">Your shop</h2>
      <form method="post" action="/admin/settings/shop" class="card">
        <FormError message={props.shopError?.message} />
        <Field
          id="shop-name"
          label="Shop name"
          input={{ name: "name", type: "text", value: form.name, required: true, maxlength: 80 }}
          hint="On every page and in every mail."
        />
        <Field
          id="support-email"
          label="Support email"
          input={{
            name: "supportEmail",
            type: "email",
            inputmode: "email",
            value: form.supportEmail,
            autocomplete: "email",
          }}
          hint="Shown at the foot of every page and mail; buyers' replies to the shop's mails go here. Leave it empty for none."
        />
        <Field
          id="time-zone"
          label="Time zone"
          hint="Every date on these pages and in mails is in it."
        >
          <select id="time-zone" name="timeZone" aria-describedby="time-zone-help">
            {zones.map((zone) => (
              <option value={zone} selected={zone === form.timeZone}>
                {zone.replaceAll("_", " ")}
              </option>
            ))}
          </select>
        </Field>
        <div class="actions">
          <button type="submit">Save shop settings</button>
        </div>
      </form>
      <h2 id="logo">Logo</h2>
      <div class="card">
        <FormError message={props.logoError} />
        {props.shop.logo ? (
          <div class="logo-preview">
            <img src={publicImageUrl(props.shop.logo)} alt="The shop's logo" height={56} />
            <form method="post" action="/admin/settings/logo/remove">
              <button type="submit" class="secondary">
                Remove logo
              </button>
            </form>
          </div>
        ) : (
          <p class="muted">No logo: pages and mails show the shop's name alone.</p>
        )}
        <form method="post" action="/admin/settings/logo" enctype="multipart/form-data">
          <Field
            id="logo-file"
            label={props.shop.logo ? "Replace the logo" : "Upload a logo"}
            input={{
              name: "logo",
              type: "file",
              accept: "image/png,image/jpeg,image/webp,image/gif",
              required: true,
            }}
            hint={`PNG, JPEG, WebP or GIF, at most ${formatBytes(MAX_LOGO_BYTES)}. Shown 28 pixels high beside the name: a wide, short picture works best.`}
          />
          <div class="actions">
            <button type="submit">Upload logo</button>
          </div>
        </form>
      </div>
      <h2 id="checkout">Checkout</h2>
      <CheckoutSettingsForm settings={props.checkout} error={props.checkoutError} />
      <h2 id="sharing">Sharing detection</h2>
      <SharingSettingsForm settings={props.sharing} error={props.sharingError} />
      <h2 id="health">Health and configuration</h2>
      {props.diagnosis ? (
        <>
          <p class={problems ? "notice bad" : "notice ok"}>
            {problems
              ? `${problems} problem${problems === 1 ? "" : "s"} found. Each is explained below; fix the setting named and restart the shop.`
              : "No problems found."}{" "}
            These are the checks of <code>npx tollgate doctor</code>, run just now.
          </p>
          <h3>Checks</h3>
          <div class="card">
            <table class="facts">
              <caption class="sr-only">Checks</caption>
              <tbody>
                {checks.map((c) => (
                  <tr>
                    <th scope="row">
                      <Badge tone={TONE[c.status].tone}>{TONE[c.status].label}</Badge> {c.area}
                    </th>
                    <td>{c.text}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>Configuration</h3>
          <p class="muted">
            Set with environment variables when the shop starts. Secrets (keys, passwords, the
            session secret) are never shown.
          </p>
          <div class="card">
            <table class="facts">
              <caption class="sr-only">Configuration</caption>
              <tbody>
                {props.diagnosis.settings.map((s) => (
                  <tr>
                    <th scope="row">{s.name}</th>
                    <td>{s.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : (
        <p class="notice">
          This runtime cannot run the checks from a page. Run <code>npx tollgate doctor</code> with
          the shop's configuration instead.
        </p>
      )}
    </AdminLayout>
  );
}
