import type { MailMessage } from "../core/ports.ts";
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
  const why = `You got this email because someone asked for a fresh download link for ${productName} at ${shopName} with ${mail.to}. If that was not you, you can ignore it: the link only ever comes to this address.`;
  return {
    to: mail.to,
    subject: `Your fresh download link for ${productName}`,
    text: [
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
      paragraphs: [`You asked for a new link to download ${productName}. It works ${validity}.`],
      button: { label: "Download your files", url: mail.link.url },
      closing: [libraryParagraph(shop, mail.to), KEEP_PRIVATE],
      footer: why,
    }),
  };
}
