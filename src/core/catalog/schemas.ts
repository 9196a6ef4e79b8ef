import * as z from "zod";

export const slugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, "use 1-64 lowercase letters, digits and dashes");

const currencySchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z]{3}$/, "use a three-letter ISO currency code such as usd or eur");

export const priceSchema = z.object({
  amount: z
    .number()
    .int("use whole minor units (cents): 1900 means 19.00")
    .min(0, "cannot be negative")
    .max(99_999_999, "is too large"),
  currency: currencySchema,
});

export const productKindSchema = z.enum(["one_time", "subscription", "free"]);
export const intervalSchema = z.enum(["day", "week", "month", "year"]);

export const createProductSchema = z
  .object({
    slug: slugSchema,
    name: z.string().trim().min(1, "is required").max(200),
    description: z.string().max(10_000).default(""),
    kind: productKindSchema.default("one_time"),
    price: priceSchema.optional(),
    interval: intervalSchema.optional(),
    stripePriceId: z
      .string()
      .regex(/^price_\w+$/, "must be a Stripe price id (price_...)")
      .optional(),
    active: z.boolean().default(true),
  })
  .superRefine((p, ctx) => {
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
      ctx.addIssue({ code: "custom", path: ["price"], message: "is required for a paid product" });
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
  });

export type CreateProductInput = z.input<typeof createProductSchema>;

export const updateProductSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(10_000),
    price: priceSchema,
    interval: intervalSchema,
    stripePriceId: z
      .string()
      .regex(/^price_\w+$/)
      .nullable(),
    active: z.boolean(),
  })
  .partial()
  .strict();

export type UpdateProductInput = z.input<typeof updateProductSchema>;
