import type { MailMessage } from "../core/ports.ts";
import { html } from "./html.ts";
import { layoutEmail, type MailOf, type Shop, supportLines } from "./layout.ts";

export function signInMail(mail: MailOf<"sign-in">, shop: Shop): MailMessage {
  const { shopName } = shop;
  const why = `You got this email because someone asked to sign in to ${shopName} with ${mail.to}. If that was not you, ignore it: nothing happens until the link is used.`;
  return {
    to: mail.to,
    subject: `Your sign-in link for ${shopName}`,
    text: [
      `Sign in to ${shopName} by opening this link:`,
      "",
      mail.url,
      "",
      `Or enter this code on the sign-in page: ${mail.code}`,
      "",
      `The link and the code work once and expire in ${mail.minutes} minutes.`,
      "If you did not ask to sign in, you can ignore this email.",
      "",
      "--",
      why,
      ...supportLines(shop),
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `Your sign-in code is ${mail.code}. The link and code expire in ${mail.minutes} minutes.`,
      title: "Sign in",
      paragraphs: [
        "Click the button to sign in and see your purchases.",
        html`Or enter this code on the sign-in page: <strong style="font-size:20px;letter-spacing:3px">${mail.code}</strong>`,
      ],
      button: { label: "Sign in", url: mail.url },
      closing: [`The link and the code work once and expire in ${mail.minutes} minutes.`],
      footer: why,
    }),
  };
}
