import type { CheckoutSettings } from "../../core/shop/checkoutSettings.ts";
import { FormError } from "./ui.tsx";

/** The four switches, each with what it does for the buyer (decision 0029). */
const SWITCHES: {
  name: "automaticTax" | "taxIdCollection" | "invoiceCreation" | "promotionCodes";
  label: string;
  hint: string;
}[] = [
  {
    name: "automaticTax",
    label: "Calculate tax automatically (Stripe Tax)",
    hint: "Checkout works out the sales tax or VAT for the buyer's address and shows it before they pay.",
  },
  {
    name: "taxIdCollection",
    label: "Collect business tax IDs",
    hint: "Business buyers can enter their VAT or tax number at checkout; it is printed on their receipt and invoice.",
  },
  {
    name: "invoiceCreation",
    label: "Send an invoice for one-time purchases",
    hint: "Stripe makes an invoice for each payment; buyers open it (and its PDF) from their library. Subscriptions always have one.",
  },
  {
    name: "promotionCodes",
    label: "Accept promotion codes",
    hint: "Checkout shows a field for a code; the codes and what they take off are set in the Stripe Dashboard (Products > Coupons).",
  },
];

/**
 * The settings page's Checkout section (settings.tsx renders it): what Stripe Checkout does beyond
 * taking the payment. A switch left unticked is absent from the form: the route saves it off.
 */
export function CheckoutSettingsForm(props: {
  settings: CheckoutSettings;
  error?: string | null | undefined;
}) {
  const s = props.settings;
  return (
    <form method="post" action="/admin/settings/checkout" class="card">
      <FormError message={props.error} />
      <p class="muted">
        What Stripe Checkout does for your buyers beyond taking the payment. Each applies to
        checkouts started from now on.
      </p>
      {SWITCHES.map((sw) => (
        <div class="field">
          <label>
            <input
              type="checkbox"
              name={sw.name}
              value="on"
              checked={s[sw.name]}
              aria-describedby={`checkout-${sw.name}-help`}
            />{" "}
            {sw.label}
          </label>
          <p id={`checkout-${sw.name}-help`} class="muted" style="margin:0">
            {sw.hint}
            {sw.name === "automaticTax" ? (
              <>
                {" "}
                Stripe Tax collects only where you are registered: add your registrations in the
                Stripe Dashboard (Tax &gt; Registrations), and give each product its tax code on its
                page.
              </>
            ) : null}
          </p>
        </div>
      ))}
      <fieldset class="field">
        <legend>Your prices</legend>
        <label>
          <input
            type="radio"
            name="taxBehavior"
            value="exclusive"
            checked={s.taxBehavior === "exclusive"}
          />{" "}
          Tax is added to prices
        </label>
        <label>
          <input
            type="radio"
            name="taxBehavior"
            value="inclusive"
            checked={s.taxBehavior === "inclusive"}
          />{" "}
          Prices include tax
        </label>
        <p class="muted" style="margin:0">
          Added: a €10.00 price costs the buyer €10.00 plus their tax. Included: the buyer pays
          €10.00 and the tax is part of it. Only matters with automatic tax on.
        </p>
      </fieldset>
      <div class="actions">
        <button type="submit">Save checkout settings</button>
      </div>
    </form>
  );
}
