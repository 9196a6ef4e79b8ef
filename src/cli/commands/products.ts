import {
  createProduct,
  getProductForAdmin,
  listProducts,
  updateProduct,
} from "../../core/catalog/products.ts";
import { formatPrice } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";
import { type GraceOptions, graceInput, graceSettingsText } from "./graceOptions.ts";
import {
  type LicenseOptions,
  licenseInput,
  licenseSettingsText,
  requireSomeChange,
} from "./licenseOptions.ts";

interface ProductAddOptions extends LicenseOptions {
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
  return withRuntime(async ({ systemCtx, config }) => {
    const product = await createProduct({
      ctx: systemCtx,
      input: {
        slug: opts.slug,
        name: opts.name,
        description: opts.description,
        kind: opts.kind,
        ...(opts.price !== undefined
          ? { price: { amount: opts.price, currency: opts.currency } }
          : {}),
        ...(opts.interval ? { interval: opts.interval } : {}),
        active: !opts.unpublished,
        ...licenseInput(opts),
      },
    });
    console.log(
      `Created ${product.slug}: ${product.name} (${product.kind}, ${priceText(product.price_amount, product.currency, product.kind)})`,
    );
    if (product.license_enabled) console.log(licenseSettingsText(product));
    console.log(`Product page: ${config.publicUrl}/p/${product.slug}`);
    console.log(`Next: npx tollgate asset add ${product.slug} ./path/to/file.zip`);
  });
}

interface ProductUpdateOptions extends LicenseOptions, GraceOptions {
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
      `Updated ${product.slug}: ${product.name} (${product.kind}, ${priceText(product.price_amount, product.currency, product.kind)})`,
    );
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
    const rows = products.map((p) => [
      p.slug,
      p.name,
      p.kind,
      priceText(p.price_amount, p.currency, p.kind),
      p.active ? "published" : "unpublished",
    ]);
    printTable(["SLUG", "NAME", "KIND", "PRICE", "STATUS"], rows);
  });
}

const priceText = (amount: number, currency: string, kind: string) =>
  kind === "free" ? "free" : formatPrice(amount, currency);

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
