/**
 * The mail transport contract (./mailTransport.contract.ts) against SMTP: nodemailer, pooled,
 * talking to a real SMTP server (test/mail/smtp-server.ts) that parses what it receives.
 */
import { smtpMailer } from "../../src/adapters/mail-smtp/index.ts";
import { startSmtpServer } from "../mail/smtp-server.ts";
import { freePort } from "../support/server.ts";
import { mailTransportContract } from "./mailTransport.contract.ts";

const FROM = "Tollgate Shop <shop@example.com>";
const PASSWORD = "p@ss:w/rd 42%";

mailTransportContract("SMTP (a real SMTP server, with a login)", async () => {
  const smtp = await startSmtpServer({
    users: { shop: PASSWORD },
    rejectRecipients: ["gone@example.com"],
    deferRecipients: ["busy@example.com"],
  });
  const transport = smtpMailer({ url: smtp.url("shop", PASSWORD), from: FROM });
  const downs: { close(): void }[] = [];
  return {
    transport,
    from: FROM,
    async delivered() {
      return smtp.received.map(({ mail, envelope }) => {
        const [sender] = mail.from?.value ?? [];
        // The envelope and the headers must agree on who it is for.
        const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
        const headerTo = to.flatMap((a) => a.value.map((v) => v.address)).join(", ");
        return {
          to:
            headerTo === envelope.to.join(", ")
              ? headerTo
              : `${headerTo} (envelope: ${envelope.to})`,
          from: sender ? `${sender.name} <${sender.address}>` : null,
          subject: mail.subject ?? "",
          text: mail.text ?? "",
          html: mail.html === false ? "" : (mail.html ?? ""),
        };
      });
    },
    refuses: { forGood: "gone@example.com", forNow: "busy@example.com" },
    async down() {
      const mailer = smtpMailer({ url: `smtp://127.0.0.1:${await freePort()}`, from: FROM });
      downs.push(mailer);
      return mailer;
    },
    async close() {
      transport.close();
      for (const mailer of downs) mailer.close();
      await smtp.close();
    },
  };
});
