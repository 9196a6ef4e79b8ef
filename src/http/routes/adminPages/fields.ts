import { normalizeEmail } from "../../../core/context.ts";
import { invalidInput } from "../../../core/errors.ts";
import { emailSchema } from "../../../core/identity/signIn.ts";

/** An email typed into a seller's form, normalized; a clear message when it is not one. */
export function parseEmail(text: string): string {
  const parsed = emailSchema.safeParse(text);
  if (!parsed.success) throw invalidInput("Email: give an email address, like buyer@example.com.");
  return normalizeEmail(parsed.data);
}
