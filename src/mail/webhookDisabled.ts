import type { MailMessage } from "../core/ports.ts";
import { detailsTable, layoutEmail, type MailOf, type Shop } from "./layout.ts";

/** To the shop's admins: an outgoing webhook endpoint failed for three days and was disabled. */
export function webhookDisabledMail(mail: MailOf<"webhook-disabled">, shop: Shop): MailMessage {
  const since = new Date(mail.failingSince).toISOString().replace("T", " ").slice(0, 16);
  const lead = `${shop.shopName} stopped sending webhooks to ${mail.url}: every delivery since ${since} UTC failed.`;
  const what =
    "Events are no longer recorded for it. Once the endpoint works again, enable it on its page and replay the deliveries it missed.";
  const why = `You got this email because you are an admin of ${shop.shopName}.`;
  const rows: [string, string][] = [
    ["Endpoint", mail.url],
    ["Failing since", `${since} UTC`],
    ["Last error", mail.lastError ?? "none recorded"],
  ];
  return {
    to: mail.to,
    subject: `Webhook endpoint disabled: ${mail.url}`,
    text: [
      lead,
      "",
      ...rows.map(([k, v]) => `${`${k}:`.padEnd(15)}${v}`),
      "",
      what,
      "",
      `The endpoint: ${mail.pageUrl}`,
      "",
      "--",
      why,
    ].join("\n"),
    html: layoutEmail({
      shop,
      preheader: `Every delivery to ${mail.url} failed for three days.`,
      title: "A webhook endpoint was disabled",
      paragraphs: [lead, what],
      button: { label: "Open the endpoint", url: mail.pageUrl },
      details: [detailsTable("Endpoint", rows)],
      footer: why,
    }),
  };
}
