import type Stripe from "stripe";
import { newTaxRate } from "../discountObjects.ts";
import type { Engine } from "../engine.ts";
import { unixNow } from "../ids.ts";
import { type InvoiceBuyer, type InvoiceLineInput, newInvoice } from "../invoiceObject.ts";
import { addressIn, type Period } from "../objects.ts";
import type { Quote } from "../quoteAmounts.ts";

/** The local pages a paid invoice's `hosted_invoice_url` and `invoice_pdf` point at. */
export function linkInvoicePages(engine: Engine, invoice: Stripe.Invoice): void {
  invoice.hosted_invoice_url = engine.pageUrl(`/invoices/${invoice.id}`);
  invoice.invoice_pdf = engine.pageUrl(`/invoices/${invoice.id}/pdf`);
}

/** The tax rate of a country at a percentage, made when first needed. */
function taxRate(engine: Engine, country: string, percent: number, inclusive: boolean): string {
  const known = Object.values(engine.state.taxRates).find(
    (r) => r.country === country && r.percentage === percent && r.inclusive === inclusive,
  );
  if (known) return known.id;
  const rate = newTaxRate({ country, percent, inclusive });
  engine.state.taxRates[rate.id] = rate;
  return rate.id;
}

/** The invoice lines of a session's line items, with the discount and tax its quote gave them. */
export function invoiceLines(
  engine: Engine,
  items: Stripe.LineItem[],
  quote: Quote | undefined,
  periodOf: (item: Stripe.LineItem) => Period,
): InvoiceLineInput[] {
  return items.map((item, i) => {
    const line = quote?.lines[i];
    const quantity = item.quantity ?? 1;
    const tax: Stripe.InvoiceLineItem.Tax | null =
      quote?.automaticTax && quote.country && line
        ? {
            amount: line.tax,
            tax_behavior: line.inclusive ? "inclusive" : "exclusive",
            tax_rate_details: {
              tax_rate: taxRate(engine, quote.country, quote.percent, line.inclusive),
            },
            taxability_reason: quote.taxabilityReason ?? "not_collecting",
            taxable_amount: line.taxable,
            type: "tax_rate_details",
          }
        : null;
    return {
      price: item.price as Stripe.Price,
      quantity,
      description: `${quantity} × ${item.description ?? ""}`,
      period: periodOf(item),
      amount: line?.subtotal ?? item.amount_subtotal,
      discount:
        line && quote?.discountId && line.discount > 0
          ? { amount: line.discount, discount: quote.discountId }
          : null,
      tax,
    };
  });
}

export function invoiceBuyer(quote: Quote | undefined): InvoiceBuyer {
  return {
    address: addressIn(quote?.country ?? null),
    taxIds: quote?.taxIds ?? [],
    taxExempt: quote?.taxExempt ?? "none",
    automaticTax: quote?.automaticTax ?? false,
    discount: quote?.discountId ?? null,
  };
}

/**
 * The paid invoice Checkout makes for a one-time payment with `invoice_creation[enabled]`, sent as
 * Stripe sends it: `invoice.created` (draft), `invoice.finalized` (open), `invoice.paid`,
 * `invoice.payment_succeeded`.
 */
export function invoicePayment(
  engine: Engine,
  session: Stripe.Checkout.Session,
  customer: Stripe.Customer,
  intent: Stripe.PaymentIntent,
): Stripe.Invoice {
  const setup = engine.state.checkoutSetup[session.id];
  const now = unixNow();
  const invoice = newInvoice({
    customer,
    subscription: null,
    lines: invoiceLines(engine, engine.state.lineItems[session.id] ?? [], setup?.quote, () => ({
      start: now,
      end: now,
    })),
    billingReason: "manual",
    invoicePeriod: { start: now, end: now },
    buyer: invoiceBuyer(setup?.quote),
    metadata: session.invoice_creation?.invoice_data.metadata ?? {},
  });
  linkInvoicePages(engine, invoice);
  engine.state.invoices[invoice.id] = invoice;
  engine.state.invoicePayments[invoice.id] = intent.id;
  session.invoice = invoice.id;

  const paid = {
    status: invoice.status,
    status_transitions: invoice.status_transitions,
    amount_paid: invoice.amount_paid,
    amount_remaining: invoice.amount_remaining,
  };
  const transitions = { ...invoice.status_transitions, paid_at: null };
  Object.assign(invoice, {
    status: "draft",
    status_transitions: { ...transitions, finalized_at: null },
    amount_paid: 0,
    amount_remaining: invoice.amount_due,
  });
  engine.emit("invoice.created", invoice);
  Object.assign(invoice, { status: "open", status_transitions: transitions });
  engine.emit("invoice.finalized", invoice);
  Object.assign(invoice, paid);
  engine.emit("invoice.paid", invoice);
  engine.emit("invoice.payment_succeeded", invoice);
  return invoice;
}
