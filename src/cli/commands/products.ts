import {
  createProduct,
  getProductForAdmin,
  listProducts,
  updateProduct,
} from "../../core/catalog/products.ts";
import type { Product } from "../../db/schema.ts";
import { formatPrice } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";
import { type GraceOptions, graceInput, graceSettingsText } from "./graceOptions.ts";
import {
  type LicenseOptions,
  licenseInput,
  licenseSettingsText,
  requireSomeChange,
} from "./licenseOptions.ts";
import { type PricingOptions, pricingInput } from "./pricingOptions.ts";

interface ProductAddOptions extends LicenseOptions, PricingOptions {
  slug: string;
  name: string;
  description: string;
  kind: "one_time" | "subscription" | "free";
  price?: number;
  currency: string;
  interval?: "day" | "week" | "month" | "year";
  unpublished?: boolean;
}

export function productAdd(opts: ProductAddOptions) {
  const pricing = pricingInput(opts);
  // Pay what you want without --price: the amount offered first stands as the price.
  const price =
    opts.price ??
    (pricing.payWhatYouWant
      ? (pricing.payWhatYouWant.suggested ?? pricing.payWhatYouWant.minimum)
      : undefined);
  return withRuntime(async ({ systemCtx, config }) => {
    const product = await createProduct({
      ctx: systemCtx,
      input: {
        slug: opts.slug,
        name: opts.name,
        description: opts.description,
        kind: opts.kind,
        ...(price !== undefined ? { price: { amount: price, currency: opts.currency } } : {}),
        ...(opts.interval ? { interval: opts.interval } : {}),
        active: !opts.unpublished,
        ...licenseInput(opts),
        ...pricing,
      },
    });
    console.log(
      `Created ${product.slug}: ${product.name} (${product.kind}, ${priceText(product)})`,
    );
    if (product.tax_code) console.log(taxCodeText(product));
    if (product.license_enabled) console.log(licenseSettingsText(product));
    console.log(`Product page: ${config.publicUrl}/p/${product.slug}`);
    console.log(`Next: npx tollgate asset add ${product.slug} ./path/to/file.zip`);
  });
}

interface ProductUpdateOptions extends LicenseOptions, GraceOptions, PricingOptions {
  name?: string;
  description?: string;
  price?: number;
}

/** Changes what is given and leaves the rest; the price keeps the product's currency. */
export function productUpdate(slug: string, opts: ProductUpdateOptions) {
  const changes = {
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...licenseInput(opts),
    ...graceInput(opts),
    ...pricingInput(opts),
  };
  requireSomeChange({ ...changes, ...(opts.price !== undefined ? { price: opts.price } : {}) });
  return withRuntime(async ({ systemCtx: ctx, config }) => {
    const current = await getProductForAdmin({ ctx, input: { slug } });
    const product = await updateProduct({
      ctx,
      input: {
        slug: current.slug,
        changes: {
          ...changes,
          ...(opts.price !== undefined
            ? { price: { amount: opts.price, currency: current.currency } }
            : {}),
        },
      },
    });
    console.log(
      `Updated ${product.slug}: ${product.name} (${product.kind}, ${priceText(product)})`,
    );
    console.log(taxCodeText(product));
    console.log(licenseSettingsText(product));
    console.log(graceSettingsText(product, config.refundRevokesAccess));
    if (product.license_enabled && !current.license_enabled)
      console.log(
        "Everyone who owns it now has a key, and each new purchase comes with one. See them with: npx tollgate license list --product " +
          product.slug,
      );
  });
}

export function productList() {
  return withRuntime(async ({ systemCtx }) => {
    const products = await listProducts({ ctx: systemCtx, input: { includeUnpublished: true } });
    if (products.length === 0) {
      console.log(
        'No products yet. Create one with: npx tollgate product add --slug my-kit --name "My kit" --price 1900',
      );
      return;
    }
    // The tax code column only once some product has one.
    const taxCodes = products.some((p) => p.tax_code);
    const rows = products.map((p) => [
      p.slug,
      p.name,
      p.kind,
      priceText(p),
      p.active ? "published" : "unpublished",
      ...(taxCodes ? [p.tax_code ?? ""] : []),
    ]);
    printTable(
      ["SLUG", "NAME", "KIND", "PRICE", "STATUS", ...(taxCodes ? ["TAX CODE"] : [])],
      rows,
    );
  });
}

/** "$19.00", "pay what you want from $5.00 (suggested $15.00)", "$19.00, was $29.00", "free". */
export function priceText(
  p: Pick<Product, "kind" | "price_amount" | "currency" | "pwyw_minimum" | "pwyw_suggested"> &
    Pick<Product, "list_price">,
): string {
  if (p.kind === "free") return "free";
  const money = (amount: number) => formatPrice(amount, p.currency);
  const base =
    p.pwyw_minimum !== null
      ? `pay what you want from ${money(p.pwyw_minimum)}${
          p.pwyw_suggested !== null && p.pwyw_suggested !== p.pwyw_minimum
            ? ` (suggested ${money(p.pwyw_suggested)})`
            : ""
        }`
      : money(p.price_amount);
  return p.list_price !== null ? `${base}, was ${money(p.list_price)}` : base;
}

/** "Tax code: txcd_10000000." or "Tax code: none (Stripe uses the account's default)." */
export function taxCodeText(p: Pick<Product, "tax_code">): string {
  return p.tax_code
    ? `Tax code: ${p.tax_code}.`
    : "Tax code: none (Stripe Tax uses the account's default tax code).";
}

export function printTable(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    );
}
