import {
  type CheckoutSettings,
  checkoutSettings,
  savedCheckoutSettings,
  updateCheckoutSettings,
} from "../../core/shop/checkoutSettings.ts";
import { withRuntime } from "../run.ts";

/** What commander gives: each option parsed by `onOff`, left out when not given. */
interface CheckoutSettingsOptions {
  automaticTax?: boolean;
  taxIds?: boolean;
  invoices?: boolean;
  promotionCodes?: boolean;
  pricesIncludeTax?: boolean;
}

/** `tollgate checkout-settings`: prints the Checkout settings, or saves the options given first. */
export function checkoutSettingsCommand(opts: CheckoutSettingsOptions) {
  const changes = {
    ...(opts.automaticTax !== undefined ? { automaticTax: opts.automaticTax } : {}),
    ...(opts.taxIds !== undefined ? { taxIdCollection: opts.taxIds } : {}),
    ...(opts.invoices !== undefined ? { invoiceCreation: opts.invoices } : {}),
    ...(opts.promotionCodes !== undefined ? { promotionCodes: opts.promotionCodes } : {}),
    ...(opts.pricesIncludeTax !== undefined
      ? { taxBehavior: opts.pricesIncludeTax ? ("inclusive" as const) : ("exclusive" as const) }
      : {}),
  };
  return withRuntime(async ({ systemCtx: ctx }) => {
    const saving = Object.keys(changes).length > 0;
    const settings = saving
      ? await updateCheckoutSettings({ ctx, input: changes })
      : await checkoutSettings(ctx);
    if (saving) console.log("Saved. Checkout settings now:");
    for (const line of settingsLines(settings, await savedCheckoutSettings(ctx))) console.log(line);
    if (saving && changes.automaticTax)
      console.log(
        "Stripe Tax collects tax only where the Stripe account has tax registrations (Dashboard > Tax > Registrations); `tollgate doctor` checks.",
      );
  });
}

type Setting = keyof CheckoutSettings;

/** Each setting: its option's name, on or off, what that means, and where a default came from. */
const WORDING: Record<Setting, { name: string; on: string; off: string; variable: string | null }> =
  {
    automaticTax: {
      name: "Automatic tax",
      on: "Stripe Tax computes and collects tax at checkout",
      off: "no tax is computed or collected",
      variable: "CHECKOUT_AUTOMATIC_TAX",
    },
    taxIdCollection: {
      name: "Tax IDs",
      on: "business buyers may enter their tax ID (VAT number)",
      off: "buyers are not asked for a tax ID",
      variable: "CHECKOUT_TAX_ID_COLLECTION",
    },
    invoiceCreation: {
      name: "Invoices",
      on: "Stripe makes an invoice for each one-time payment",
      off: "no invoice for one-time payments (subscriptions always have theirs)",
      variable: "CHECKOUT_INVOICE_CREATION",
    },
    promotionCodes: {
      name: "Promotion codes",
      on: "buyers may enter a promotion code",
      off: "no promotion code field",
      variable: "CHECKOUT_PROMOTION_CODES",
    },
    taxBehavior: {
      name: "Prices include tax",
      on: "prices as set include tax",
      off: "tax is added to prices as set",
      variable: null,
    },
  };

/** "Automatic tax: on: Stripe Tax computes ... (default: CHECKOUT_AUTOMATIC_TAX)", one a line. */
export function settingsLines(settings: CheckoutSettings, saved: Set<Setting>): string[] {
  const width = Math.max(...Object.values(WORDING).map((w) => w.name.length)) + 1;
  return (Object.keys(WORDING) as Setting[]).map((key) => {
    const w = WORDING[key];
    const on = key === "taxBehavior" ? settings.taxBehavior === "inclusive" : settings[key];
    const source = saved.has(key) ? "" : w.variable ? ` (default: ${w.variable})` : " (default)";
    return `${`${w.name}:`.padEnd(width)} ${on ? "on " : "off"}  ${on ? w.on : w.off}${source}`;
  });
}
