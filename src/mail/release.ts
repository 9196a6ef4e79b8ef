import type { MailMessage } from "../core/ports.ts";
import { html } from "./html.ts";
import {
  BRAND,
  detailsTable,
  downloadLines,
  KEEP_PRIVATE,
  layoutEmail,
  libraryLines,
  libraryParagraph,
  linkValidity,
  type MailOf,
  type Shop,
  supportLines,
} from "./layout.ts";

/**
 * The update mail of a release (decision 0018): what changed, the notes as the seller wrote
 * them (Markdown is readable as text; never rendered into the HTML part), a fresh download link,
 * the library, and a one-click unsubscribe (RFC 8058: List-Unsubscribe with
 * List-Unsubscribe-Post, so a mail client's button unsubscribes without opening a page).
 */
export function releaseMail(mail: MailOf<"release">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName, version, changes } = mail;
  const validity = linkValidity(mail.link, shop);
  const notes = mail.notes.trim();
  const changeRows: [string, string][] = [
    ...changes.added.map((f): [string, string] => [f, "added"]),
    ...changes.changed.map((f): [string, string] => [f, "changed"]),
    ...changes.removed.map((f): [string, string] => [f, "removed"]),
  ];
  const summary = changeRows.length
    ? `${changeRows.length} file${changeRows.length === 1 ? "" : "s"} changed.`
    : "The files are the same as before.";
  const why = `You got this email because you have access to ${productName} from ${shopName} with ${mail.to}.`;
  const unsubscribe = `No more update emails: ${mail.unsubscribeUrl}`;
  return {
    to: mail.to,
    subject: `${productName} ${version} is out`,
    headers: {
      "List-Unsubscribe": `<${mail.unsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    text: [
      `${productName} ${version} is out at ${shopName}. ${summary}`,
      "",
      ...(changeRows.length
        ? ["What changed:", ...changeRows.map(([f, how]) => `  - ${f} (${how})`), ""]
        : []),
      ...(notes ? ["Release notes:", "", notes, ""] : []),
      ...downloadLines(mail.link, shop),
      "",
      ...libraryLines(shop, mail.to),
      "",
      KEEP_PRIVATE,
      "",
      "--",
      why,
      unsubscribe,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `${productName} ${version}: ${summary}`,
      title: `${productName} ${version} is out`,
      paragraphs: [
        `There is a new release of ${productName}. ${summary} Your download link works ${validity}.`,
      ],
      button: { label: "Download the new files", url: mail.link.url },
      details: [
        ...(changeRows.length ? [detailsTable("What changed", changeRows)] : []),
        ...(notes
          ? [
              html`<h2 style="margin:8px 0 4px;font-size:15px;line-height:22px;font-weight:700">Release notes</h2>
<pre style="margin:0 0 16px;white-space:pre-wrap;word-break:break-word;font-family:inherit;font-size:14px;line-height:21px">${notes}</pre>`,
            ]
          : []),
      ],
      closing: [libraryParagraph(shop, mail.to), KEEP_PRIVATE],
      footer: html`${why} <a href="${mail.unsubscribeUrl}" style="color:${BRAND}">Unsubscribe from update emails</a>.`,
    }),
  };
}
