/**
 * Every mail the shop sends, worded and laid out here: the core says that a mail goes and with
 * what facts (a Mail), this module makes its subject, text and HTML (one layout, layout.ts), and
 * a transport sends the result.
 */
import type { Mail, Mailer, MailMessage, MailTransport } from "../core/ports.ts";
import { downloadReminderMail } from "./downloadReminder.ts";
import { freeClaimMail } from "./freeClaim.ts";
import { freshLinkMail } from "./freshLink.ts";
import type { Shop } from "./layout.ts";
import { paymentFailedMail } from "./paymentFailed.ts";
import { receiptMail } from "./receipt.ts";
import { refundMail } from "./refund.ts";
import { releaseMail } from "./release.ts";
import { sellerAlertMail } from "./sellerAlert.ts";
import { sharingConfirmMail } from "./sharingConfirm.ts";
import { signInMail } from "./signIn.ts";
import { webhookDisabledMail } from "./webhookDisabled.ts";

export type { Shop };

/**
 * A mail as it is sent: subject, plain text and HTML, in the shop's one layout; replies go to
 * the shop's support address when it has one.
 */
export function renderMail(mail: Mail, shop: Shop): MailMessage {
  const message = renderBody(mail, shop);
  return shop.supportEmail ? { ...message, replyTo: shop.supportEmail } : message;
}

function renderBody(mail: Mail, shop: Shop): MailMessage {
  switch (mail.kind) {
    case "sign-in":
      return signInMail(mail, shop);
    case "receipt":
      return receiptMail(mail, shop);
    case "fresh-link":
      return freshLinkMail(mail, shop);
    case "free-claim":
      return freeClaimMail(mail, shop);
    case "refund":
      return refundMail(mail, shop);
    case "payment-failed":
      return paymentFailedMail(mail, shop);
    case "webhook-disabled":
      return webhookDisabledMail(mail, shop);
    case "release":
      return releaseMail(mail, shop);
    case "seller-alert":
      return sellerAlertMail(mail, shop);
    case "download-reminder":
      return downloadReminderMail(mail, shop);
    case "sharing-confirm":
      return sharingConfirmMail(mail, shop);
  }
}

/**
 * The core's Mailer over a transport: each mail rendered for the shop as it is when it goes (the
 * seller may rename it any time), then sent. The transport's failures (MailFailure, permanent or
 * not) reach the core as they are.
 */
export function renderingMailer(transport: MailTransport, shop: () => Promise<Shop>): Mailer {
  return { send: async (mail) => transport.send(renderMail(mail, await shop())) };
}
