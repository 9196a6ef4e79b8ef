import type { MailMessage } from "../core/ports.ts";
import { formatPrice } from "../pages/format.ts";
import {
  detailsTable,
  layoutEmail,
  libraryUrl,
  type MailOf,
  type Shop,
  supportLines,
} from "./layout.ts";

export function refundMail(mail: MailOf<"refund">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName } = mail;
  const amount = formatPrice(mail.amount, mail.currency);
  const why = `You got this email because your purchase of ${productName} from ${shopName} with ${mail.to} was refunded.`;
  const money = `${amount} is on its way back to you. Banks usually show it within 5 to 10 business days.`;
  const access = mail.accessKept
    ? "You keep your files: they stay in your library."
    : `The download links for ${productName} no longer work, and your library lists the purchase as refunded.`;
  return {
    to: mail.to,
    subject: `Refunded: ${productName}`,
    text: [
      `${shopName} refunded your purchase of ${productName}.`,
      "",
      `Product:         ${productName}`,
      `Amount refunded: ${amount}`,
      `Order reference: ${mail.orderRef}`,
      "",
      money,
      access,
      "",
      `Your library: ${libraryUrl(shop)}`,
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `${amount} for ${productName} is on its way back to you.`,
      title: "Your refund",
      paragraphs: [`${shopName} refunded your purchase of ${productName}.`, money, access],
      details: [
        detailsTable("Refund", [
          ["Product", productName],
          ["Amount refunded", amount],
          ["Order reference", mail.orderRef],
        ]),
      ],
      closing: [`Your library: ${libraryUrl(shop)}`],
      footer: why,
    }),
  };
}
