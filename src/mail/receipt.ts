import type { MailMessage } from "../core/ports.ts";
import { formatBytes, formatPrice } from "../pages/format.ts";
import {
  detailsTable,
  downloadLines,
  KEEP_PRIVATE,
  layoutEmail,
  libraryLines,
  libraryParagraph,
  linkValidity,
  type MailOf,
  type Shop,
} from "./layout.ts";

const PREPARING =
  "The seller is still preparing the files: the link and your library show them once they are ready.";

export function receiptMail(mail: MailOf<"receipt">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName, files } = mail;
  const paid = formatPrice(mail.amount, mail.currency);
  const why = `You got this email because you bought ${productName} from ${shopName} with ${mail.to}.`;
  return {
    to: mail.to,
    subject: `Your purchase: ${productName}`,
    text: [
      `Thank you for buying ${productName} from ${shopName}.`,
      "",
      `Product:         ${productName}`,
      `Amount paid:     ${paid}`,
      `Order reference: ${mail.orderRef}`,
      "",
      files.length ? "What is in it:" : PREPARING,
      ...files.map((f) => `  - ${f.filename} (${formatBytes(f.size)})`),
      "",
      ...downloadLines(mail.link),
      "",
      ...libraryLines(shop, mail.to),
      "",
      KEEP_PRIVATE,
      "",
      "--",
      why,
    ].join("\n"),
    html: layoutEmail({
      shopName,
      preheader: `Payment received: ${paid} for ${productName}. Your files are ready to download.`,
      title: `Thank you for buying ${productName}`,
      paragraphs: [
        "Your payment is confirmed and your files are ready.",
        `The download button works ${linkValidity(mail.link)}.`,
      ],
      button: { label: "Download your files", url: mail.link.url },
      details: [
        detailsTable("Your order", [
          ["Product", productName],
          ["Amount paid", paid],
          ["Order reference", mail.orderRef],
        ]),
        ...(files.length
          ? [
              detailsTable(
                "What is in it",
                files.map((f) => [f.filename, formatBytes(f.size)]),
                { keepValuesOnOneLine: true },
              ),
            ]
          : []),
      ],
      closing: [
        ...(files.length ? [] : [PREPARING]),
        libraryParagraph(shop, mail.to),
        KEEP_PRIVATE,
      ],
      footer: why,
    }),
  };
}
