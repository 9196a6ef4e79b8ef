import type { MailMessage } from "../core/ports.ts";
import { layoutEmail, type MailOf, type Shop, supportLines } from "./layout.ts";

/** Sharing detection (decision 0028): one click proves it is the buyer, and the download goes on. */
export function sharingConfirmMail(mail: MailOf<"sharing-confirm">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const { productName } = mail;
  const why = `You got this email because a download of ${productName} from ${shopName} asked to confirm it was you, and someone asked for this link. Your recent downloads came from more networks or devices than usual (a new phone, travel or a VPN can do that). If it was not you, do not open the link, and consider telling ${shopName}: someone may be using your downloads.`;
  const validity = `The link works once, for ${mail.hours} hours.`;
  return {
    to: mail.to,
    subject: `Confirm it's you to download ${productName}`,
    text: [
      `Was that you downloading ${productName} from ${shopName}? Open this link to confirm, and your download goes on:`,
      "",
      mail.url,
      "",
      validity,
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `One click confirms it's you, and your download of ${productName} goes on.`,
      title: "Confirm it's you",
      paragraphs: [
        `Was that you downloading ${productName}? Click the button to confirm, and your download goes on.`,
      ],
      button: { label: "Yes, it's me: continue", url: mail.url },
      closing: [validity],
      footer: why,
    }),
  };
}
