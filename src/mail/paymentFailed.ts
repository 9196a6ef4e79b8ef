import type { MailMessage } from "../core/ports.ts";
import { formatDate } from "../pages/format.ts";
import {
  detailsTable,
  layoutEmail,
  libraryUrl,
  type MailOf,
  type Shop,
  supportLines,
} from "./layout.ts";

/** A subscription payment failed: the buyer keeps access a while and is asked to fix the card. */
export function paymentFailedMail(mail: MailOf<"payment-failed">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName } = mail;
  const until = formatDate(mail.accessUntil, shop.timeZone);
  const payUrl = mail.payUrl ?? libraryUrl(shop);
  const what = `The latest payment for your subscription to ${productName} from ${shopName} did not go through.`;
  const keep = `You keep your access until ${until}. To keep it after that, update your card or pay the open invoice before then.`;
  const how = mail.payUrl
    ? "Pay the invoice with another card here:"
    : `Sign in to your library at ${shopName} to see your subscription:`;
  const why = `You got this email because a payment for ${productName} from ${shopName} with ${mail.to} failed.`;
  return {
    to: mail.to,
    subject: `Payment failed: ${productName}`,
    text: [
      what,
      "",
      keep,
      "",
      how,
      payUrl,
      "",
      `Product:         ${productName}`,
      `Order reference: ${mail.orderRef}`,
      `Access until:    ${until}`,
      "",
      "If you have already updated your card, you can ignore this email.",
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `Update your card to keep ${productName} after ${until}.`,
      title: "Your payment did not go through",
      paragraphs: [what, keep],
      button: { label: mail.payUrl ? "Pay the invoice" : "Open your library", url: payUrl },
      details: [
        detailsTable("Subscription", [
          ["Product", productName],
          ["Order reference", mail.orderRef],
          ["Access until", until],
        ]),
      ],
      closing: ["If you have already updated your card, you can ignore this email."],
      footer: why,
    }),
  };
}
