import type { listOrders } from "../../core/orders/listOrders.ts";
import { fromMinorUnits } from "../format.ts";

type OrderSummary = Awaited<ReturnType<typeof listOrders>>[number];

/** The columns of the orders export, for a seller's books (issue 20): one row per order. */
const COLUMNS: [string, (o: OrderSummary) => string | number | null][] = [
  ["reference", (o) => o.reference],
  ["order_id", (o) => o.id],
  ["created_at", (o) => o.createdAt],
  ["status", (o) => o.status],
  ["product", (o) => o.product],
  ["email", (o) => o.email],
  ["currency", (o) => o.currency.toUpperCase()],
  ["subtotal", (o) => fromMinorUnits(o.subtotal, o.currency)],
  ["discount", (o) => fromMinorUnits(o.discount, o.currency)],
  ["tax", (o) => fromMinorUnits(o.tax, o.currency)],
  ["total", (o) => fromMinorUnits(o.total, o.currency)],
  ["net", (o) => fromMinorUnits(o.net, o.currency)],
  ["country", (o) => o.country],
  ["tax_ids", (o) => o.taxIds.map((t) => `${t.type} ${t.value}`).join("; ")],
  ["invoice", (o) => o.invoiceId],
  ["payment_intent", (o) => o.paymentIntentId],
  ["subscription", (o) => o.subscriptionId],
];

/**
 * A field as RFC 4180 writes it, and never a formula: a spreadsheet runs a cell that starts with
 * = + - @ (an email or a product name can), so such a cell is prefixed with a quote mark.
 */
function field(value: string | number | null): string {
  let text = value === null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The orders as CSV lines, amounts in major units ("12.50"), CRLF line ends; the header line
 * first unless told it was written already (an export written page by page).
 */
export function ordersCsv(orders: OrderSummary[], { header = true } = {}): string {
  const lines = header ? [COLUMNS.map(([name]) => name).join(",")] : [];
  for (const order of orders) lines.push(COLUMNS.map(([, get]) => field(get(order))).join(","));
  return lines.length ? `${lines.join("\r\n")}\r\n` : "";
}
