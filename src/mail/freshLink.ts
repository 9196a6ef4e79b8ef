import type { MailMessage } from "../core/ports.ts";
import { formatDate } from "../pages/format.ts";
import {
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

export function freshLinkMail(mail: MailOf<"fresh-link">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName } = mail;
  const validity = linkValidity(mail.link, shop);
  // Sent by the seller re-opening ended access, or asked for from an expired link.
  const reopened =
    mail.reopenedUntil === undefined
      ? null
      : `${shopName} has re-opened your access to ${productName} until ${formatDate(mail.reopenedUntil, shop.timeZone)}.`;
  const why = reopened
    ? `You got this email because ${shopName} re-opened your access to ${productName} for ${mail.to}.`
    : `You got this email because someone asked for a fresh download link for ${productName} at ${shopName} with ${mail.to}. If that was not you, you can ignore it: the link only ever comes to this address.`;
  return {
    to: mail.to,
    subject: `Your fresh download link for ${productName}`,
    text: [
      ...(reopened ? [reopened, ""] : []),
      `Here is a fresh link to download ${productName} from ${shopName}.`,
      "",
      ...downloadLines(mail.link, shop),
      "",
      ...libraryLines(shop, mail.to),
      "",
      KEEP_PRIVATE,
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `Your new download link for ${productName} works ${validity}.`,
      title: "Your fresh download link",
      paragraphs: [
        reopened
          ? `${reopened} Here is a new link to download it. It works ${validity}.`
          : `You asked for a new link to download ${productName}. It works ${validity}.`,
      ],
      button: { label: "Download your files", url: mail.link.url },
      closing: [libraryParagraph(shop, mail.to), KEEP_PRIVATE],
      footer: why,
    }),
  };
}
