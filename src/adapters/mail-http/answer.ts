/**
 * The provider's own words from an error answer. Resend and Mailgun say `{ message }`, Postmark
 * `{ Message }`, SendGrid `{ errors: [{ message }] }`; anything else is shown as text.
 */
export async function providerMessage(res: Response): Promise<string> {
  const text = (await res.text().catch(() => "")).trim();
  if (!text) return res.statusText || "no details given";
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const found = firstText(
      body.message,
      body.Message,
      (body.error as Record<string, unknown> | undefined)?.message,
      body.error,
      (body.errors as Record<string, unknown>[] | undefined)?.[0]?.message,
    );
    if (found) return found;
  } catch {}
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

function firstText(...candidates: unknown[]): string | null {
  for (const c of candidates) if (typeof c === "string" && c.trim()) return c.trim();
  return null;
}

/** Retry-After in milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(res: Response, now = Date.now()): number | null {
  const value = res.headers.get("retry-after")?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
