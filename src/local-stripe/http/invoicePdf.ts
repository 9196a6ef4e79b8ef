import { PDFDocument, type PDFFont, rgb, StandardFonts } from "@cantoo/pdf-lib";
import type Stripe from "stripe";
import { formatPrice } from "../../pages/format.ts";
import { invoiceSums } from "./invoiceSums.ts";

/** The invoice as a one-page A4 PDF with the same lines and totals as its hosted page. */
export async function invoicePdf(invoice: Stripe.Invoice): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(`Invoice ${invoice.number ?? invoice.id}`);
  pdf.setProducer("Tollgate local Stripe");
  const page = pdf.addPage([595.28, 841.89]);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const money = (amount: number) => formatPrice(amount, invoice.currency);
  const left = 56;
  const right = 539;
  let y = 780;

  const text = (value: string, x: number, font: PDFFont, size: number, alignRight = false) => {
    const safe = encodable(value, font);
    const at = alignRight ? x - font.widthOfTextAtSize(safe, size) : x;
    page.drawText(safe, { x: at, y, size, font, color: rgb(0.1, 0.12, 0.21) });
  };
  const row = (label: string, amount: string, font = regular) => {
    text(label, left, font, 11);
    text(amount, right, font, 11, true);
    y -= 18;
  };

  text(`Invoice ${invoice.number ?? ""}`, left, bold, 20);
  y -= 24;
  text("Local test invoice: no real money moved.", left, regular, 10);
  y -= 28;
  const paidAt = invoice.status_transitions.paid_at ?? invoice.created;
  row("Date", new Date(paidAt * 1000).toISOString().slice(0, 10));
  row("Status", invoice.status ?? "");
  if (invoice.customer_email) row("Billed to", invoice.customer_email);
  if (invoice.customer_address?.country) row("Country", invoice.customer_address.country);
  for (const id of invoice.customer_tax_ids ?? []) row(`Tax ID (${id.type})`, id.value ?? "");
  y -= 14;
  text("Items", left, bold, 13);
  y -= 20;
  for (const line of invoice.lines.data) row(line.description ?? "", money(line.amount));
  y -= 6;
  page.drawLine({
    start: { x: left, y: y + 12 },
    end: { x: right, y: y + 12 },
    thickness: 0.5,
    color: rgb(0.8, 0.82, 0.86),
  });
  for (const sum of invoiceSums(invoice)) row(sum.label, money(sum.amount));
  row(invoice.status === "paid" ? "Amount paid" : "Amount due", money(invoice.total), bold);
  return pdf.save();
}

/** The standard fonts cover Latin-1 and a few more; anything else is drawn as "?". */
function encodable(value: string, font: PDFFont): string {
  const known = new Set(font.getCharacterSet());
  return [...value.replace(/[\u00a0\u202f]/g, " ")]
    .map((ch) => (known.has(ch.codePointAt(0) ?? 0) ? ch : "?"))
    .join("");
}
