import type { MailMessage } from "../ports.ts";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A plain, readable HTML mail around a few paragraphs and one button. */
export function layoutEmail(opts: {
  shopName: string;
  title: string;
  paragraphs: string[];
  button?: { label: string; url: string };
  footer: string;
}): string {
  const p = (text: string) => `<p style="margin:0 0 16px;line-height:1.5">${text}</p>`;
  const button = opts.button
    ? `<p style="margin:24px 0"><a href="${escapeHtml(opts.button.url)}" style="background:#1f4fd1;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600;display:inline-block">${escapeHtml(opts.button.label)}</a></p>`
    : "";
  return `<!doctype html><html><body style="margin:0;background:#f5f6f8;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1b1f24">
<div style="max-width:520px;margin:0 auto;padding:32px 16px"><div style="background:#fff;border-radius:10px;padding:28px;border:1px solid #e3e6ea">
<p style="margin:0 0 20px;font-weight:700;color:#1f4fd1">${escapeHtml(opts.shopName)}</p>
<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(opts.title)}</h1>
${opts.paragraphs.map(p).join("\n")}${button}
<p style="margin:24px 0 0;font-size:13px;color:#5b6570">${opts.footer}</p></div></div></body></html>`;
}

export function signInEmail(opts: {
  shopName: string;
  to: string;
  url: string;
  code: string;
  minutes: number;
}): MailMessage {
  return {
    to: opts.to,
    subject: `Your sign-in link for ${opts.shopName}`,
    text: [
      `Sign in to ${opts.shopName} by opening this link:`,
      "",
      opts.url,
      "",
      `Or enter this code on the sign-in page: ${opts.code}`,
      "",
      `The link and the code work once and expire in ${opts.minutes} minutes.`,
      "If you did not ask to sign in, you can ignore this email.",
    ].join("\n"),
    html: layoutEmail({
      shopName: opts.shopName,
      title: "Sign in",
      paragraphs: [
        "Click the button to sign in and see your purchases.",
        `Or enter this code on the sign-in page: <strong style="font-size:18px;letter-spacing:2px">${escapeHtml(opts.code)}</strong>`,
      ],
      button: { label: "Sign in", url: opts.url },
      footer: `The link and the code work once and expire in ${opts.minutes} minutes. If you did not ask to sign in, you can ignore this email.`,
    }),
  };
}
