import type { Context } from "hono";
import { AppError } from "../../../core/errors.ts";
import { readBody } from "../../body.ts";
import type { HonoEnv } from "../../env.ts";

/** A submitted form's fields as strings (a checkbox that is off is simply absent). */
export async function readForm(c: Context<HonoEnv>): Promise<Record<string, string>> {
  const body = await readBody(c);
  return Object.fromEntries(
    Object.entries(body).map(([name, value]) => [name, typeof value === "string" ? value : ""]),
  );
}

/** After a successful POST: back to a page, which shows the notice named by `done`. */
export function redirectDone(c: Context<HonoEnv>, path: string, done: string): Response {
  const sep = path.includes("?") ? "&" : "?";
  return c.redirect(`${path}${sep}done=${encodeURIComponent(done)}`, 303);
}

/** The notice for `?done=`, from the page's own fixed list (never text taken from the URL). */
export function noticeFor(c: Context<HonoEnv>, notices: Record<string, string>): string | null {
  const done = c.req.query("done");
  return done && Object.hasOwn(notices, done) ? (notices[done] ?? null) : null;
}

/**
 * Runs a form action; input the seller can fix (invalid input, conflict) comes back as a message
 * so the page can show the form again with what was typed. Other errors go to the error page.
 */
export async function attempt<T>(
  action: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  try {
    return { ok: true, value: await action() };
  } catch (error) {
    if (error instanceof AppError && (error.code === "invalid_input" || error.code === "conflict"))
      return { ok: false, message: error.message };
    throw error;
  }
}
