import * as z from "../zod.ts";

/** An activation limit: a whole number of machines, or null for none. */
export const activationLimitSchema = z.nullable(
  z
    .number()
    .check(
      z.int("use a whole number of machines"),
      z.minimum(1, "must be at least 1; use null for no limit"),
      z.maximum(100_000, "is too large"),
    ),
);

/** A product's licence settings, as the seller sends them (each field may be left out). */
export const licenseSettingsSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  activationLimit: z.optional(activationLimitSchema),
  /** Keys end when access ends (subscriptions), or never. */
  expiresWithAccess: z.optional(z.boolean()),
});

/**
 * A key as buyers paste it: five groups of five of Crockford's base-32 digits. Case, spaces and
 * dashes and the letters it never uses (I, L, O) are forgiven; anything else is not a key.
 */
export const licenseKeySchema = z.pipe(
  z.string(),
  z.transform((s) =>
    // Too long to be a key: kept as is, it is then unknown like any other string that is not one.
    s.length > 200
      ? s
      : s
          .trim()
          .toUpperCase()
          .replace(/[IL]/g, "1")
          .replace(/O/g, "0")
          .replace(/[\s_-]+/g, "")
          .replace(/(.{5})(?=.)/g, "$1-"),
  ),
);
export const KEY_PATTERN = /^[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}$/;

/** What identifies one machine to the seller's app: its own choice of stable id. */
export const fingerprintSchema = z
  .string()
  .check(
    z.trim(),
    z.minLength(1, "is required: a stable id of the machine"),
    z.maxLength(200, "is too long (200 characters at most)"),
  );

const labelSchema = z.string().check(z.trim(), z.maxLength(200, "is too long"));

export const activateSchema = z.object({
  key: licenseKeySchema,
  fingerprint: fingerprintSchema,
  label: z.optional(labelSchema),
});

export const validateSchema = z.object({
  key: licenseKeySchema,
  fingerprint: z.optional(fingerprintSchema),
});

export const deactivateSchema = z.object({
  key: licenseKeySchema,
  fingerprint: fingerprintSchema,
});

export const offlineSchema = deactivateSchema;

export const setLimitSchema = z.strictObject({ activationLimit: activationLimitSchema });

export const resetSchema = z.strictObject({
  /** Frees this one activation (its id or fingerprint); every activation when left out. */
  activation: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});
