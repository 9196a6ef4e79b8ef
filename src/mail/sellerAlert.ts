import type { MailMessage } from "../core/ports.ts";
import { detailsTable, layoutEmail, type MailOf, type Shop } from "./layout.ts";

/** To the shop's admins: something needs a look (core/alerts.ts). */
export function sellerAlertMail(mail: MailOf<"seller-alert">, shop: Shop): MailMessage {
  const why = `You got this email because you are an admin of ${shop.shopName}.`;
  const width = Math.max(0, ...mail.rows.map(([label]) => label.length)) + 2;
  return {
    to: mail.to,
    subject: `${shop.shopName}: ${mail.title}`,
    text: [
      mail.lead,
      "",
      ...mail.rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`),
      ...(mail.rows.length ? [""] : []),
      `Open it: ${mail.pageUrl}`,
      "",
      "--",
      why,
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: mail.lead,
      title: mail.title,
      paragraphs: [mail.lead],
      button: { label: "Open it in your shop", url: mail.pageUrl },
      details: mail.rows.length ? [detailsTable("Details", mail.rows)] : [],
      footer: why,
    }),
  };
}
