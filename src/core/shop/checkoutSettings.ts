import type { ShopProfileTable, TaxBehavior } from "../../db/schema.ts";
import { type CheckoutDefaults, type Ctx, requireAdmin } from "../context.ts";
import { shopSetting } from "../shopSetting.ts";
import { type InputOf, parseInput } from "../validate.ts";
import * as z from "../zod.ts";

/**
 * What Stripe Checkout does for the shop beyond taking the payment (issue 20, decision 0029):
 * Stripe Tax, tax IDs of business buyers, an invoice for one-time payments, promotion codes, and
 * whether prices include tax. The configuration (CHECKOUT_*) gives the defaults until the seller
 * saves their own on the settings page, the API or the CLI.
 */
export interface CheckoutSettings extends CheckoutDefaults {
  /** Prices as set are before tax (exclusive: tax is added) or include it (inclusive). */
  taxBehavior: TaxBehavior;
}

const kept = shopSetting(loadSettings);

/** The settings as they are now (read by every checkout, kept a second per process). */
export const checkoutSettings = kept.read;

const readRow = (ctx: Pick<Ctx, "db">) =>
  ctx.db
    .selectFrom("shop_profile")
    .select([
      "checkout_automatic_tax",
      "checkout_tax_id_collection",
      "checkout_invoice_creation",
      "checkout_promotion_codes",
      "checkout_tax_behavior",
    ])
    .where("id", "=", 1)
    .executeTakeFirst();

/** What reading them takes: the database, and the configuration's defaults (doctor has no more). */
type CheckoutReader = Pick<Ctx, "db"> & { settings: Pick<Ctx["settings"], "checkout"> };

async function loadSettings(ctx: CheckoutReader): Promise<CheckoutSettings> {
  const row = await readRow(ctx);
  const defaults = ctx.settings.checkout;
  const on = (v: number | null | undefined, fallback: boolean) =>
    v == null ? fallback : Number(v) === 1;
  return {
    automaticTax: on(row?.checkout_automatic_tax, defaults.automaticTax),
    taxIdCollection: on(row?.checkout_tax_id_collection, defaults.taxIdCollection),
    invoiceCreation: on(row?.checkout_invoice_creation, defaults.invoiceCreation),
    promotionCodes: on(row?.checkout_promotion_codes, defaults.promotionCodes),
    taxBehavior: row?.checkout_tax_behavior ?? "exclusive",
  };
}

/** The settings the seller saved; the others are the configuration's defaults (the CLI says which). */
export async function savedCheckoutSettings(
  ctx: Pick<Ctx, "db">,
): Promise<Set<keyof CheckoutSettings>> {
  const row = await readRow(ctx);
  const columns: [keyof CheckoutSettings, unknown][] = [
    ["automaticTax", row?.checkout_automatic_tax],
    ["taxIdCollection", row?.checkout_tax_id_collection],
    ["invoiceCreation", row?.checkout_invoice_creation],
    ["promotionCodes", row?.checkout_promotion_codes],
    ["taxBehavior", row?.checkout_tax_behavior],
  ];
  return new Set(columns.filter(([, value]) => value != null).map(([name]) => name));
}

/** On or off, as JSON, a form or the CLI says it. */
const onOff = z.union([
  z.boolean(),
  z.pipe(
    z.enum(["on", "off", "true", "false"], { message: 'must be "on" or "off"' }),
    z.transform((v) => v === "on" || v === "true"),
  ),
]);

/** Any of the settings; those left out stay as they are. */
export const checkoutSettingsSchema = z.partial(
  z.strictObject({
    automaticTax: onOff,
    taxIdCollection: onOff,
    invoiceCreation: onOff,
    promotionCodes: onOff,
    taxBehavior: z.enum(["exclusive", "inclusive"], {
      message: 'must be "exclusive" (tax is added to prices) or "inclusive" (prices include it)',
    }),
  }),
);

export async function updateCheckoutSettings({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InputOf<typeof checkoutSettingsSchema>;
}): Promise<CheckoutSettings> {
  requireAdmin(ctx);
  const v = parseInput(checkoutSettingsSchema, input);
  const bit = (b: boolean | undefined) => (b === undefined ? undefined : b ? 1 : 0);
  const values: Partial<ShopProfileTable> = Object.fromEntries(
    Object.entries({
      checkout_automatic_tax: bit(v.automaticTax),
      checkout_tax_id_collection: bit(v.taxIdCollection),
      checkout_invoice_creation: bit(v.invoiceCreation),
      checkout_promotion_codes: bit(v.promotionCodes),
      checkout_tax_behavior: v.taxBehavior,
    }).filter(([, value]) => value !== undefined),
  );
  if (Object.keys(values).length) {
    await kept.save(ctx, values);
    ctx.log.info("checkout settings saved", { ...v });
  }
  return checkoutSettings(ctx);
}
