import type { Product } from "../../db/schema.ts";
import { type Ctx, db } from "../context.ts";
import type { ChosenPriceRequest } from "../ports.ts";
import type { CheckoutSettings } from "../shop/checkoutSettings.ts";

/**
 * The provider price a pay-what-you-want product is sold with: Checkout takes a chosen amount
 * only from a price made for it (Stripe's custom_unit_amount). Made once for what it is made
 * from (name, currency, minimum, suggested amount, tax code and behaviour) and reused; a change to
 * any of them makes a new one. Two first checkouts at once may both make one: either serves.
 */
export async function chosenPriceId(
  ctx: Ctx,
  product: Pick<Product, "name" | "currency" | "tax_code">,
  amounts: { minimum: number; suggested: number },
  settings: CheckoutSettings,
): Promise<string> {
  const request: ChosenPriceRequest = {
    name: product.name,
    currency: product.currency,
    minimum: amounts.minimum,
    suggested: amounts.suggested,
    taxCode: product.tax_code,
    taxBehavior: settings.automaticTax ? settings.taxBehavior : null,
  };
  const spec = JSON.stringify(request);
  const known = await db(ctx)
    .selectFrom("provider_prices")
    .select("price_id")
    .where("spec", "=", spec)
    .executeTakeFirst();
  if (known) return known.price_id;
  const priceId = await ctx.payments.createChosenPrice(request);
  await db(ctx)
    .insertInto("provider_prices")
    .values({ spec, price_id: priceId, created_at: ctx.clock.now() })
    .onConflict((oc) => oc.column("spec").doNothing())
    .execute();
  return priceId;
}
