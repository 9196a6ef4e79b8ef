import { publicImageUrl } from "../core/images/publicImages.ts";
import type { Mail, MailLink } from "../core/ports.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import { formatDate } from "../pages/format.ts";
import { html, SafeHtml } from "./html.ts";

/** What every mail says of the shop it comes from: the seller's profile and the shop's address. */
export interface Shop {
  shopName: string;
  publicUrl: string;
  /** Where buyers write with questions: the footer says so, and replies go there. */
  supportEmail: string | null;
  /** Dates in mails are in this zone. */
  timeZone: string;
  /** The logo's public image id. */
  logo: string | null;
}

/** The mails' view of the shop's profile (core/shop/profile.ts). */
export const mailShop = (profile: ShopProfile, publicUrl: string): Shop => ({
  shopName: profile.name,
  publicUrl,
  supportEmail: profile.supportEmail,
  timeZone: profile.timeZone,
  logo: profile.logo,
});

/** One kind of the core's mails. */
export type MailOf<K extends Mail["kind"]> = Extract<Mail, { kind: K }>;

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const TEXT = "#1b1f24";
const MUTED = "#5b6570";
export const BRAND = "#1f4fd1";
const LINE = "#e3e6ea";
const PAGE = "#f5f6f8";
const MONO = "ui-monospace,Menlo,Consolas,'Courier New',monospace";

/** A paragraph of the mail's body; a plain string is escaped. */
export type Paragraph = string | SafeHtml;

export interface EmailLayout {
  shop: Shop;
  /** The line inbox lists show after the subject. */
  preheader: string;
  title: string;
  paragraphs: Paragraph[];
  /** The one action; its link is also written out as text for clients that block buttons. */
  button?: { label: string; url: string };
  /** Shown under the button: order details, a file list. */
  details?: SafeHtml[];
  /** Paragraphs after everything else, in smaller print. */
  closing?: Paragraph[];
  /** Why the reader got this mail. */
  footer: Paragraph;
}

/**
 * A mail that reads well in Gmail, Apple Mail and Outlook: tables for layout, inline styles only,
 * a hidden preheader, a button made of a table cell (Outlook ignores padding on links), and the
 * button's link written out below it.
 */
export function layoutEmail(opts: EmailLayout): string {
  const p = (text: Paragraph) =>
    html`<p style="margin:0 0 16px;font-family:${FONT};font-size:16px;line-height:24px;color:${TEXT}">${text}</p>`;
  const small = (text: Paragraph) =>
    html`<p style="margin:0 0 10px;font-family:${FONT};font-size:14px;line-height:21px;color:${MUTED}">${text}</p>`;
  const button = opts.button
    ? html`<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 16px"><tr>
<td align="center" bgcolor="${BRAND}" style="border-radius:6px;background:${BRAND};padding:13px 24px"><a href="${opts.button.url}" target="_blank" style="font-family:${FONT};font-size:16px;font-weight:600;line-height:20px;color:#ffffff;text-decoration:none;display:inline-block">${opts.button.label}</a></td>
</tr></table>
<p style="margin:0 0 20px;font-family:${FONT};font-size:13px;line-height:20px;color:${MUTED}">Button not working? Copy this link into your browser:<br><a href="${opts.button.url}" style="color:${BRAND};word-break:break-all">${opts.button.url}</a></p>`
    : "";
  const { shop } = opts;
  const logo = shop.logo
    ? html`<img src="${shop.publicUrl}${publicImageUrl(shop.logo)}" alt="" height="28" style="height:28px;width:auto;vertical-align:middle;margin-right:8px;border:0">`
    : "";
  const support = shop.supportEmail
    ? html` Questions? Reply to this email or write to <a href="mailto:${shop.supportEmail}" style="color:${MUTED}">${shop.supportEmail}</a>.`
    : "";
  return html`<!doctype html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>${opts.title}</title>
</head>
<body style="margin:0;padding:0;background:${PAGE};-webkit-text-size-adjust:100%">
<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;font-size:1px;line-height:1px;color:${PAGE}">${opts.preheader}${new SafeHtml("&#8199;&#847;".repeat(40))}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${PAGE}" style="background:${PAGE}"><tr><td align="center" style="padding:24px 12px">
${new SafeHtml('<!--[if mso]><table role="presentation" width="560" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->')}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px">
<tr><td style="padding:0 4px 14px;font-family:${FONT};font-size:17px;font-weight:700;line-height:24px;color:${BRAND}">${logo}${opts.shop.shopName}</td></tr>
<tr><td bgcolor="#ffffff" style="background:#ffffff;border:1px solid ${LINE};border-radius:10px;padding:28px 24px">
<h1 style="margin:0 0 16px;font-family:${FONT};font-size:22px;line-height:28px;font-weight:700;color:${TEXT}">${opts.title}</h1>
${opts.paragraphs.map(p)}
${button}
${opts.details ?? []}
${(opts.closing ?? []).map(small)}
</td></tr>
<tr><td style="padding:16px 4px 0;font-family:${FONT};font-size:12px;line-height:18px;color:${MUTED}">${opts.footer}${support}</td></tr>
</table>
${new SafeHtml("<!--[if mso]></td></tr></table><![endif]-->")}
</td></tr></table>
</body>
</html>`.value;
}

/** A two-column table of labels and values (an order summary, a file list). */
export function detailsTable(
  heading: string,
  rows: [Paragraph, Paragraph][],
  opts: { keepValuesOnOneLine?: boolean } = {},
): SafeHtml {
  const cell = (value: Paragraph, align: "left" | "right", weight: number, wrap: boolean) =>
    html`<td align="${align}" style="padding:8px 0;border-top:1px solid ${LINE};font-family:${FONT};font-size:14px;line-height:20px;font-weight:${weight};color:${TEXT};${wrap ? "word-break:break-word" : "white-space:nowrap;padding-left:12px"}">${value}</td>`;
  return html`<h2 style="margin:8px 0 4px;font-family:${FONT};font-size:15px;line-height:22px;font-weight:700;color:${TEXT}">${heading}</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px">
${rows.map(([label, value]) => html`<tr>${cell(label, "left", 400, true)}${cell(value, "right", 600, !opts.keepValuesOnOneLine)}</tr>`)}
</table>`;
}

/** A code the reader copies (a licence key): a heading, the code in large monospace, a note. */
export function codeBlock(heading: string, code: string, note: Paragraph): SafeHtml {
  return html`<h2 style="margin:8px 0 4px;font-family:${FONT};font-size:15px;line-height:22px;font-weight:700;color:${TEXT}">${heading}</h2>
<p style="margin:0 0 6px;padding:10px 12px;background:${PAGE};border:1px solid ${LINE};border-radius:6px;font-family:${MONO};font-size:17px;line-height:24px;font-weight:700;letter-spacing:1px;color:${TEXT};word-break:break-all">${code}</p>
<p style="margin:0 0 16px;font-family:${FONT};font-size:14px;line-height:21px;color:${MUTED}">${note}</p>`;
}

/** "until 2025-01-02 10:00 UTC for up to 5 downloads": how long a download link works. */
export function linkValidity(link: MailLink, shop: Shop): string {
  const uses =
    link.maxUses === null
      ? ""
      : ` for up to ${link.maxUses} download${link.maxUses === 1 ? "" : "s"}`;
  return `until ${formatDate(link.expiresAt, shop.timeZone)}${uses}`;
}

/** The buyer's library page, where their files always are. */
export const libraryUrl = (shop: Shop): string => `${shop.publicUrl}/library`;

/** The library paragraph of the receipt and the fresh-link mail. */
export function libraryParagraph(shop: Shop, email: string): SafeHtml {
  return html`Your files are always in <a href="${libraryUrl(shop)}" style="color:${BRAND}">your library</a>: sign in with <strong>${email}</strong>.`;
}

/** The text part's lines about the library, as libraryParagraph says it in HTML. */
export const libraryLines = (shop: Shop, email: string): string[] => [
  `Your files are always in your library. Sign in with ${email} at:`,
  libraryUrl(shop),
];

/** The text part's lines with the download link. */
export const downloadLines = (link: MailLink, shop: Shop): string[] => [
  `Download your files (this link works ${linkValidity(link, shop)}):`,
  link.url,
];

export const KEEP_PRIVATE =
  "Keep this email private: the download link works for anyone who has it.";

/** The text part's last line: where to write with questions, when the seller gave an address. */
export const supportLines = (shop: Shop): string[] =>
  shop.supportEmail ? [`Questions? Reply to this email or write to ${shop.supportEmail}.`] : [];
