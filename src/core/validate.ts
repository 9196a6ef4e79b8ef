import { invalidInput } from "./errors.ts";
import * as z from "./zod.ts";

/** Parses input with a zod schema; a failure becomes one invalid_input error that names each field. */
export function parseInput<S extends z.core.$ZodType>(schema: S, input: unknown): z.output<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => ({
    field: i.path.join(".") || "body",
    message: i.message,
  }));
  throw invalidInput(fields.map((f) => `${f.field}: ${f.message}`).join("; "), { fields });
}

declare const unparsed: unique symbol;
/**
 * Input as it came from outside (a request body, a query, a form), not checked: a route hands it
 * to a verb as `body as Unchecked`, and the verb parses it, once, with its own schema.
 */
export type Unchecked = { readonly [unparsed]: true };

/** What a verb that owns its input schema takes: input of that schema's shape, or Unchecked. */
export type InputOf<S extends z.core.$ZodType> = z.input<S> | Unchecked;

/** How many rows a list gives: 1 to 1000, 100 when not said; a query's text counts as a number. */
export const limitSchema = z._default(
  z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)),
  100,
);
