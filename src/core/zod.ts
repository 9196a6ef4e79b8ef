/**
 * zod, as Tollgate uses it: `zod/mini`, the functional API (`z.optional(z.string().check(...))`)
 * over the same core as classic zod, with English messages. Classic zod's methods (`.optional()`,
 * `.email()`, ...) make every schema kind and string format part of any bundle that uses one, so
 * the Worker bundle carries about 11 KB gzip more with it (docs/deploy-cloudflare.md); import
 * `* as z` from here, never from "zod" (the Worker tests check the bundle has no classic zod).
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export * from "zod/mini";

/** Classic zod's `z.preprocess(fn, schema)`: the input goes through `fn`, then `schema`. */
export const preprocess = <T extends z.ZodMiniType>(fn: (value: unknown) => unknown, schema: T) =>
  z.pipe(z.transform(fn), schema);

/**
 * What classic zod's `ctx.addIssue({ code: "custom", message })` did in a transform: the value is
 * refused with this message (return what this returns, as classic code returned `z.NEVER`).
 */
export function refuse(ctx: z.core.ParsePayload, message: string): never {
  ctx.issues.push({ code: "custom", message, input: ctx.value });
  return z.NEVER;
}
