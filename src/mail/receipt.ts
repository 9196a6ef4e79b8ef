import { inFileOrder } from "../core/downloads/fileOrder.ts";
import type { MailMessage } from "../core/ports.ts";
import { chargeLines, taxIdText } from "../pages/charges.ts";
import { formatBytes, formatPrice } from "../pages/format.ts";
import { html } from "./html.ts";
import {
  BRAND,
  codeBlock,
  detailsTable,
  downloadLines,
  KEEP_PRIVATE,
  layoutEmail,
  libraryLines,
  libraryParagraph,
  libraryUrl,
  linkValidity,
  type MailOf,
  type Shop,
  supportLines,
} from "./layout.ts";

/** A file's name, with its SHA-256 under it in small monospace when known. */
const fileLabel = (f: { filename: string; sha256?: string }) =>
  f.sha256
    ? html`${f.filename}<br><span style="font-family:ui-monospace,Menlo,Consolas,'Courier New',monospace;font-size:12px;line-height:16px;color:#5b6570;word-break:break-all">SHA-256 ${f.sha256}</span>`
    : f.filename;

const PREPARING =
  "The seller is still preparing the files: the link and your library show them once they are ready.";

export function receiptMail(mail: MailOf<"receipt">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName } = mail;
  const files = inFileOrder(mail.files);
  const charges = mail.charges ?? null;
  const paid = formatPrice(charges ? charges.total : mail.amount, mail.currency);
  // With a discount or tax: subtotal, discount, tax and the total paid; else the amount paid.
  const money: [string, string][] = charges
    ? chargeLines(charges, mail.currency, { country: mail.country ?? null })
    : [["Amount paid", paid]];
  const taxIds = mail.taxIds ?? [];
  const orderRows: [string, string][] = [
    ["Product", productName],
    ...money,
    ...(taxIds.length
      ? ([
          [taxIds.length === 1 ? "Your tax ID" : "Your tax IDs", taxIds.map(taxIdText).join(", ")],
        ] as [string, string][])
      : []),
    ["Order reference", mail.orderRef],
  ];
  const key = mail.licenseKey ?? null;
  const keepPrivate = key
    ? "Keep this email private: the download link and the licence key work for anyone who has them."
    : KEEP_PRIVATE;
  const why = `You got this email because you bought ${productName} from ${shopName} with ${mail.to}.`;
  return {
    to: mail.to,
    subject: `Your purchase: ${productName}`,
    text: [
      `Thank you for buying ${productName} from ${shopName}.`,
      "",
      ...orderRows.map(([label, value]) => `${`${label}:`.padEnd(17)}${value}`),
      "",
      ...(key
        ? [
            `Your licence key: ${key}`,
            `See or free the machines it is activated on in your library: ${libraryUrl(shop)}`,
            "",
          ]
        : []),
      files.length ? "What is in it:" : PREPARING,
      ...files.flatMap((f) => [
        `  - ${f.filename} (${formatBytes(f.size)})`,
        ...(f.sha256 ? [`    SHA-256: ${f.sha256}`] : []),
      ]),
      "",
      ...downloadLines(mail.link, shop),
      "",
      ...libraryLines(shop, mail.to),
      "",
      keepPrivate,
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `Payment received: ${paid} for ${productName}. Your files are ready to download.`,
      title: `Thank you for buying ${productName}`,
      paragraphs: [
        "Your payment is confirmed and your files are ready.",
        `The download button works ${linkValidity(mail.link, shop)}.`,
      ],
      button: { label: "Download your files", url: mail.link.url },
      details: [
        ...(key
          ? [
              codeBlock(
                "Your licence key",
                key,
                html`See or free the machines it is activated on in <a href="${libraryUrl(shop)}" style="color:${BRAND}">your library</a>.`,
              ),
            ]
          : []),
        detailsTable("Your order", orderRows),
        ...(files.length
          ? [
              detailsTable(
                "What is in it",
                files.map((f) => [fileLabel(f), formatBytes(f.size)]),
                { keepValuesOnOneLine: true },
              ),
            ]
          : []),
      ],
      closing: [...(files.length ? [] : [PREPARING]), libraryParagraph(shop, mail.to), keepPrivate],
      footer: why,
    }),
  };
}
