import type Stripe from "stripe";
import { fixture } from "./fixtures.ts";
import { newId, unixNow } from "./ids.ts";
import type { Period } from "./objects.ts";

export interface InvoiceLineInput {
  price: Stripe.Price;
  quantity: number;
  description: string;
  period: Period;
  /** The line's amount as priced; the price's unit amount times the quantity when absent. */
  amount?: number;
  discount?: { amount: number; discount: string } | null;
  tax?: Stripe.InvoiceLineItem.Tax | null;
}

/** Who the invoice is for, as the buyer gave it at checkout. */
export interface InvoiceBuyer {
  address: Stripe.Address | null;
  taxIds: Stripe.Invoice.CustomerTaxId[];
  taxExempt: Stripe.Invoice.CustomerTaxExempt;
  automaticTax: boolean;
  discount: string | null;
}

const noBuyer: InvoiceBuyer = {
  address: null,
  taxIds: [],
  taxExempt: "none",
  automaticTax: false,
  discount: null,
};

/**
 * A paid invoice: one line per item, each for `period`. A subscription's invoices name it in
 * `parent`; a one-time payment's invoice (Checkout's `invoice_creation`) has no parent.
 */
export function newInvoice(input: {
  customer: Stripe.Customer;
  subscription: Stripe.Subscription | null;
  lines: InvoiceLineInput[];
  billingReason: "subscription_create" | "subscription_cycle" | "manual";
  /** What Stripe reports as the invoice's own period: it looks back one period. */
  invoicePeriod: Period;
  buyer?: InvoiceBuyer;
  metadata?: Record<string, string>;
}): Stripe.Invoice {
  const invoice = fixture("invoice");
  const id = newId("in");
  const now = unixNow();
  const { subscription } = input;
  const buyer = input.buyer ?? noBuyer;
  const exampleLine = invoice.lines.data[0] as Stripe.InvoiceLineItem;
  const lines = input.lines.map((line) => {
    const amount = line.amount ?? (line.price.unit_amount ?? 0) * line.quantity;
    const item = subscription?.items.data.find((i) => i.price.id === line.price.id);
    const parent: Stripe.InvoiceLineItem.Parent = subscription
      ? {
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: false,
            proration_details: { credited_items: null },
            subscription: subscription.id,
            subscription_item: item?.id ?? "",
          },
          type: "subscription_item_details",
        }
      : {
          invoice_item_details: {
            invoice_item: newId("ii"),
            proration: false,
            proration_details: { credited_items: null },
            subscription: null,
          },
          subscription_item_details: null,
          type: "invoice_item_details",
        };
    return Object.assign(structuredClone(exampleLine), {
      id: newId("il"),
      amount,
      currency: line.price.currency,
      description: line.description,
      discount_amounts: line.discount ? [line.discount] : [],
      discounts: line.discount ? [line.discount.discount] : [],
      invoice: id,
      metadata: { ...(subscription?.metadata ?? {}) },
      parent,
      period: { start: line.period.start, end: line.period.end },
      pretax_credit_amounts: [],
      pricing: {
        price_details: {
          price: line.price.id,
          product: typeof line.price.product === "string" ? line.price.product : "",
        },
        type: "price_details",
        unit_amount_decimal:
          line.price.unit_amount_decimal ??
          (String(amount / line.quantity) as unknown as Stripe.Price["unit_amount_decimal"]),
      },
      quantity: line.quantity,
      subscription: subscription?.id ?? null,
      subtotal: amount,
      taxes: line.tax ? [line.tax] : [],
    } as Partial<Stripe.InvoiceLineItem>) as Stripe.InvoiceLineItem;
  });
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const subtotal = sum(lines.map((line) => line.amount));
  const discount = sum(input.lines.map((line) => line.discount?.amount ?? 0));
  const taxes = input.lines.flatMap((line) => (line.tax ? [line.tax] : []));
  const exclusiveTax = sum(
    taxes.filter((t) => t.tax_behavior === "exclusive").map((t) => t.amount),
  );
  const inclusiveTax = sum(
    taxes.filter((t) => t.tax_behavior === "inclusive").map((t) => t.amount),
  );
  const total = subtotal - discount + exclusiveTax;
  const sequence = input.customer.next_invoice_sequence ?? 1;
  const created: Partial<Stripe.Invoice> = {
    id,
    account_name: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: total,
    amount_remaining: 0,
    attempt_count: 1,
    attempted: true,
    automatic_tax: {
      enabled: buyer.automaticTax,
      liability: buyer.automaticTax ? { type: "self" } : null,
      status: buyer.automaticTax ? "complete" : null,
      disabled_reason: null,
      provider: buyer.automaticTax ? "stripe" : null,
    },
    billing_reason: input.billingReason,
    created: now,
    currency: subscription?.currency ?? input.lines[0]?.price.currency ?? "usd",
    customer: input.customer.id,
    customer_address: buyer.address,
    customer_email: input.customer.email,
    customer_shipping: null,
    customer_tax_exempt: buyer.taxExempt,
    customer_tax_ids: buyer.taxIds,
    discounts: buyer.discount ? [buyer.discount] : [],
    due_date: null,
    effective_at: now,
    ending_balance: 0,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    last_finalization_error: null,
    lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    metadata: { ...(input.metadata ?? {}) },
    next_payment_attempt: null,
    number: `${input.customer.invoice_prefix}-${String(sequence).padStart(4, "0")}`,
    parent: subscription
      ? {
          quote_details: null,
          subscription_details: {
            metadata: { ...subscription.metadata },
            subscription: subscription.id,
          },
          type: "subscription_details",
        }
      : null,
    payment_settings: {
      default_mandate: null,
      payment_method_options: null,
      payment_method_types: null,
    },
    period_end: input.invoicePeriod.end,
    period_start: input.invoicePeriod.start,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    status: "paid",
    status_transitions: {
      finalized_at: now,
      marked_uncollectible_at: null,
      paid_at: now,
      voided_at: null,
    },
    subtotal,
    subtotal_excluding_tax: subtotal - inclusiveTax,
    total,
    total_discount_amounts:
      buyer.discount && discount > 0 ? [{ amount: discount, discount: buyer.discount }] : [],
    total_excluding_tax: total - exclusiveTax - inclusiveTax,
    total_pretax_credit_amounts: [],
    total_taxes: totalTaxes(taxes),
    webhooks_delivered_at: now,
  };
  input.customer.next_invoice_sequence = sequence + 1;
  Object.assign(invoice, created);
  // Removed from invoices in API version 2025-03-31; the example still carries it.
  delete (invoice as { subscription?: unknown }).subscription;
  return invoice;
}

/** The lines' taxes summed per tax rate and behaviour. */
function totalTaxes(taxes: Stripe.InvoiceLineItem.Tax[]): Stripe.Invoice.TotalTax[] {
  const totals = new Map<string, Stripe.Invoice.TotalTax>();
  for (const tax of taxes) {
    const key = `${tax.tax_rate_details?.tax_rate} ${tax.tax_behavior} ${tax.taxability_reason}`;
    const total = totals.get(key);
    if (!total) totals.set(key, structuredClone(tax));
    else {
      total.amount += tax.amount;
      total.taxable_amount = (total.taxable_amount ?? 0) + (tax.taxable_amount ?? 0);
    }
  }
  return [...totals.values()];
}
