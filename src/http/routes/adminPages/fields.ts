import { normalizeEmail } from "../../../core/context.ts";
import { invalidInput } from "../../../core/errors.ts";
import { emailSchema } from "../../../core/identity/signIn.ts";

/** What a seller's form says about an email that is not one. */
export const NOT_AN_EMAIL = "Email: give an email address, like buyer@example.com.";

/** An email typed into a seller's form, normalized; a clear message when it is not one. */
export function parseEmail(text: string): string {
  const parsed = emailSchema.safeParse(text);
  if (!parsed.success) throw invalidInput(NOT_AN_EMAIL);
  return normalizeEmail(parsed.data);
}
