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

/** Nothing of a paid order was downloaded yet: one reminder, with a fresh link (decision 0023). */
export function downloadReminderMail(mail: MailOf<"download-reminder">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName } = mail;
  const paidOn = formatDate(mail.paidAt, shop.timeZone);
  const lead = `You bought ${productName} from ${shopName} on ${paidOn}, but have not downloaded it yet.`;
  const fresh = "Here is a fresh download link, in case the first one got lost or expired.";
  const once =
    "This is the only reminder we send. If you already have your files, you can ignore it.";
  const why = `You got this email because you bought ${productName} from ${shopName} with ${mail.to} (order ${mail.orderRef}).`;
  return {
    to: mail.to,
    subject: `Your files for ${productName} are waiting`,
    text: [
      lead,
      fresh,
      "",
      ...downloadLines(mail.link, shop),
      "",
      ...libraryLines(shop, mail.to),
      "",
      once,
      KEEP_PRIVATE,
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `Your files for ${productName} have not been downloaded yet. Here is a fresh link.`,
      title: "Your files are waiting",
      paragraphs: [lead, `${fresh} It works ${linkValidity(mail.link, shop)}.`],
      button: { label: "Download your files", url: mail.link.url },
      closing: [libraryParagraph(shop, mail.to), once, KEEP_PRIVATE],
      footer: why,
    }),
  };
}
