import { licenseSettingsSchema } from "../licenses/schemas.ts";
import * as z from "../zod.ts";
import { graceSchema } from "./grace.ts";
import { pricingFields } from "./pricing.ts";

export const slugSchema = z
  .string()
  .check(
    z.trim(),
    z.toLowerCase(),
    z.regex(
      /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/,
      "use 1-64 lowercase letters, digits and dashes",
    ),
  );

const currencySchema = z
  .string()
  .check(
    z.trim(),
    z.toLowerCase(),
    z.regex(/^[a-z]{3}$/, "use a three-letter ISO currency code such as usd or eur"),
  );

export const priceSchema = z.object({
  amount: z
    .number()
    .check(
      z.int("use whole minor units (cents): 1900 means 19.00"),
      z.minimum(0, "cannot be negative"),
      z.maximum(99_999_999, "is too large"),
    ),
  currency: currencySchema,
});

/** Downloads of each file each buyer may make; null: no limit (decision 0021). */
export const downloadLimitSchema = z.nullable(
  z
    .number()
    .check(
      z.int("use a whole number of downloads"),
      z.minimum(1, "must be at least 1; use null for no limit"),
      z.maximum(10_000, "is at most 10000; use null for no limit"),
    ),
);

/**
 * PDF stamping (decision 0026): buyers' PDFs carry their email, order and a trace id; when a copy
 * cannot be stamped, its download serves the original or holds the file.
 */
export const stampSettingsSchema = z.partial(
  z.strictObject({
    pdfs: z.boolean(),
    onFailure: z.enum(["original", "hold"]),
  }),
);

export const productKindSchema = z.enum(["one_time", "subscription", "free"]);
export const intervalSchema = z.enum(["day", "week", "month", "year"]);

export const createProductSchema = z
  .object({
    slug: slugSchema,
    name: z.string().check(z.trim(), z.minLength(1, "is required"), z.maxLength(200)),
    description: z._default(z.string().check(z.maxLength(10_000)), ""),
    kind: z._default(productKindSchema, "one_time"),
    price: z.optional(priceSchema),
    interval: z.optional(intervalSchema),
    stripePriceId: z.optional(
      z.string().check(z.regex(/^price_\w+$/, "must be a Stripe price id (price_...)")),
    ),
    active: z._default(z.boolean(), true),
    /** The same as `active`, by the name the seller's pages use; it wins when both are given. */
    published: z.optional(z.boolean()),
    license: z.optional(licenseSettingsSchema),
    downloadLimit: z.optional(downloadLimitSchema),
    grace: z.optional(graceSchema),
    stamp: z.optional(stampSettingsSchema),
    ...pricingFields,
  })
  .check(
    z.superRefine((p, ctx) => {
      if (p.kind === "free") {
        if (p.price && p.price.amount !== 0) {
          ctx.addIssue({
            code: "custom",
            path: ["price", "amount"],
            message: "must be 0 for a free product",
          });
        }
        return;
      }
      if (!p.price)
        ctx.addIssue({
          code: "custom",
          path: ["price"],
          message: "is required for a paid product",
        });
      else if (p.price.amount === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["price", "amount"],
          message: 'must be above 0; use kind "free" for free products',
        });
      }
      if (p.kind === "subscription" && !p.interval) {
        ctx.addIssue({
          code: "custom",
          path: ["interval"],
          message: "is required for a subscription (day, week, month or year)",
        });
      }
    }),
  );

export type CreateProductInput = z.input<typeof createProductSchema>;

export const updateProductSchema = z.partial(
  z.strictObject({
    name: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
    description: z.string().check(z.maxLength(10_000)),
    price: priceSchema,
    interval: intervalSchema,
    stripePriceId: z.nullable(z.string().check(z.regex(/^price_\w+$/))),
    active: z.boolean(),
    published: z.boolean(),
    license: licenseSettingsSchema,
    downloadLimit: downloadLimitSchema,
    grace: graceSchema,
    stamp: stampSettingsSchema,
    taxCode: pricingFields.taxCode,
    payWhatYouWant: pricingFields.payWhatYouWant,
    listPrice: pricingFields.listPrice,
  }),
);

export type UpdateProductInput = z.input<typeof updateProductSchema>;
