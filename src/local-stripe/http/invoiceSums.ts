import type Stripe from "stripe";

/** The rows between an invoice's lines and its total, as its page and PDF show them. */
export function invoiceSums(invoice: Stripe.Invoice): { label: string; amount: number }[] {
  const discount = (invoice.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
  const taxes = invoice.total_taxes ?? [];
  if (discount === 0 && taxes.length === 0) return [];
  return [
    { label: "Subtotal", amount: invoice.subtotal },
    ...(discount > 0 ? [{ label: "Discount", amount: -discount }] : []),
    ...taxes.map((tax) => ({
      label:
        tax.taxability_reason === "reverse_charge"
          ? "VAT (reverse charge)"
          : tax.tax_behavior === "inclusive"
            ? "Tax included"
            : "Tax",
      amount: tax.amount,
    })),
  ];
}
