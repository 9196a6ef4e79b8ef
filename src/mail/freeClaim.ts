import type { MailMessage } from "../core/ports.ts";
import { layoutEmail, type MailOf, type Shop, supportLines } from "./layout.ts";

export function freeClaimMail(mail: MailOf<"free-claim">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName } = mail;
  const why = `You got this email because someone asked for ${productName} from ${shopName} with ${mail.to}. If that was not you, ignore it: nothing happens until the link is used.`;
  const validity = `The link works for ${mail.hours} hours.`;
  return {
    to: mail.to,
    subject: `Your free copy of ${productName}`,
    text: [
      `Get ${productName} from ${shopName} by opening this link:`,
      "",
      mail.url,
      "",
      `${validity} Once you have it, it stays in your library: sign in with this address at ${shop.publicUrl}/library.`,
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `Confirm your address and download ${productName}. ${validity}`,
      title: `Your free copy of ${productName}`,
      paragraphs: [`Click the button to confirm your address and download ${productName}.`],
      button: { label: `Get ${productName}`, url: mail.url },
      closing: [
        `${validity} Once you have it, it stays in your library: sign in with this address at ${shop.publicUrl}/library.`,
      ],
      footer: why,
    }),
  };
}
