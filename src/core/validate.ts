import * as z from "zod";
import { invalidInput } from "./errors.ts";

/** Parses input with a zod schema; a failure becomes one invalid_input error that names each field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
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
export type InputOf<S extends z.ZodType> = z.input<S> | Unchecked;

/** How many rows a list gives: 1 to 1000, 100 when not said; a query's text counts as a number. */
export const limitSchema = z.coerce.number().int().min(1).max(1000).default(100);
