import type { z } from "zod";
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
