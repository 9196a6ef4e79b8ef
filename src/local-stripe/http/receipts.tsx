import { type Context, Hono } from "hono";
import type Stripe from "stripe";
import { formatPrice } from "../../pages/format.ts";
import type { Engine } from "../engine.ts";
import { Page } from "./checkoutPage.tsx";
import { invoicePdf } from "./invoicePdf.ts";
import { invoiceSums } from "./invoiceSums.ts";

/**
 * The pages a charge's `receipt_url` and an invoice's `hosted_invoice_url` open, as Stripe serves
 * them: anyone with the link sees the payment as it is now (a refund shows at once). The ids are
 * the links' secrets here, as Stripe's long receipt paths are there.
 */
export function receiptRoutes(engine: Engine) {
  return (
    new Hono()
      .get("/receipts/payment/:id", (c) => {
        const charge = engine.state.charges[c.req.param("id")];
        if (!charge) return c.html(<NotFound what="receipt" />, 404);
        return c.html(<ChargeReceipt charge={charge} items={itemsPaidBy(engine, charge)} />);
      })
      // `/i/:id` is where hosted invoice links pointed before `/invoices/:id`.
      .get("/invoices/:id", hostedInvoice)
      .get("/i/:id", hostedInvoice)
      .get("/invoices/:id/pdf", async (c) => {
        const invoice = engine.state.invoices[c.req.param("id")];
        if (!invoice) return c.html(<NotFound what="invoice" />, 404);
        return c.body(new Uint8Array(await invoicePdf(invoice)), 200, {
          "Content-Type": "application/pdf",
          "Content-Disposition": `inline; filename="invoice-${invoice.number ?? invoice.id}.pdf"`,
        });
      })
  );

  function hostedInvoice(c: Context) {
    const invoice = engine.state.invoices[c.req.param("id") ?? ""];
    if (!invoice) return c.html(<NotFound what="invoice" />, 404);
    return c.html(<HostedInvoice invoice={invoice} />);
  }
}

/** What the charge paid for: its Checkout Session's line items, or its invoice's lines. */
function itemsPaidBy(engine: Engine, charge: Stripe.Charge): { name: string; amount: number }[] {
  const intent = typeof charge.payment_intent === "string" ? charge.payment_intent : null;
  if (!intent) return [];
  const session = Object.values(engine.state.sessions).find((s) => s.payment_intent === intent);
  if (session)
    return (engine.state.lineItems[session.id] ?? []).map((item) => ({
      name: item.description ?? "",
      amount: item.amount_total,
    }));
  const invoiceId = Object.entries(engine.state.invoicePayments).find(
    ([, pi]) => pi === intent,
  )?.[0];
  const invoice = invoiceId ? engine.state.invoices[invoiceId] : undefined;
  return (invoice?.lines.data ?? []).map((line) => ({
    name: line.description ?? "",
    amount: line.amount,
  }));
}

const dateOf = (seconds: number) =>
  new Date(seconds * 1000).toLocaleDateString("en", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });

function methodOf(charge: Stripe.Charge): string {
  const details = charge.payment_method_details;
  if (details?.card) return `${details.card.brand ?? "Card"} ending in ${details.card.last4}`;
  if (details?.us_bank_account) return `Bank account ending in ${details.us_bank_account.last4}`;
  return "—";
}

function ChargeReceipt(props: {
  charge: Stripe.Charge;
  items: { name: string; amount: number }[];
}) {
  const { charge } = props;
  const paid = formatPrice(charge.amount, charge.currency);
  return (
    <Page title={`Receipt: ${paid}`} kind="receipt">
      <section class="card" aria-labelledby="receipt">
        <h1 id="receipt">Receipt</h1>
        <p class="total">
          <span>Amount paid</span>
          <span data-amount>{paid}</span>
        </p>
        <dl>
          <dt>Date paid</dt>
          <dd>{dateOf(charge.created)}</dd>
          <dt>Payment method</dt>
          <dd>{methodOf(charge)}</dd>
          {charge.billing_details.email ? (
            <>
              <dt>Receipt for</dt>
              <dd>{charge.billing_details.email}</dd>
            </>
          ) : null}
          <dt>Payment</dt>
          <dd>
            <code>{charge.id}</code>
          </dd>
        </dl>
        {charge.amount_refunded > 0 ? (
          <p class="alert" role="status">
            {charge.refunded ? "Refunded" : "Partly refunded"}:{" "}
            {formatPrice(charge.amount_refunded, charge.currency)}
          </p>
        ) : null}
      </section>
      {props.items.length ? (
        <section class="card" aria-labelledby="summary">
          <h2 id="summary">Summary</h2>
          <ul class="items">
            {props.items.map((item) => (
              <li>
                <span>{item.name}</span>
                <span>{formatPrice(item.amount, charge.currency)}</span>
              </li>
            ))}
          </ul>
          <p class="total">
            <span>Total</span>
            <span>{paid}</span>
          </p>
        </section>
      ) : null}
    </Page>
  );
}

function HostedInvoice({ invoice }: { invoice: Stripe.Invoice }) {
  const total = formatPrice(invoice.total, invoice.currency);
  return (
    <Page title={`Invoice ${invoice.number ?? invoice.id}`} kind="receipt">
      <section class="card" aria-labelledby="invoice">
        <h1 id="invoice">Invoice {invoice.number}</h1>
        <p class="total">
          <span>{invoice.status === "paid" ? "Amount paid" : "Amount due"}</span>
          <span data-amount>
            {formatPrice(
              invoice.status === "paid" ? invoice.amount_paid : invoice.amount_due,
              invoice.currency,
            )}
          </span>
        </p>
        <dl>
          <dt>Status</dt>
          <dd>{invoice.status === "paid" ? "Paid" : (invoice.status ?? "—")}</dd>
          <dt>Date</dt>
          <dd>{dateOf(invoice.status_transitions.paid_at ?? invoice.created)}</dd>
          {invoice.customer_email ? (
            <>
              <dt>Billed to</dt>
              <dd>{invoice.customer_email}</dd>
            </>
          ) : null}
          {invoice.customer_address?.country ? (
            <>
              <dt>Country</dt>
              <dd>{invoice.customer_address.country}</dd>
            </>
          ) : null}
          {(invoice.customer_tax_ids ?? []).map((id) => (
            <>
              <dt>Tax ID</dt>
              <dd>
                {id.value} ({id.type})
              </dd>
            </>
          ))}
        </dl>
        {invoice.invoice_pdf ? (
          <p>
            <a href={invoice.invoice_pdf}>Download the invoice (PDF)</a>
          </p>
        ) : null}
      </section>
      <section class="card" aria-labelledby="lines">
        <h2 id="lines">Items</h2>
        <ul class="items">
          {invoice.lines.data.map((line) => (
            <li>
              <span>{line.description}</span>
              <span>{formatPrice(line.amount, invoice.currency)}</span>
            </li>
          ))}
        </ul>
        {invoiceSums(invoice).map((sum) => (
          <p class="sum">
            <span>{sum.label}</span>
            <span>{formatPrice(sum.amount, invoice.currency)}</span>
          </p>
        ))}
        <p class="total">
          <span>Total</span>
          <span data-total>{total}</span>
        </p>
      </section>
    </Page>
  );
}

function NotFound({ what }: { what: "receipt" | "invoice" }) {
  return (
    <Page title="Not found" kind="receipt">
      <section class="card">
        <h1>No such {what}</h1>
        <p>This link is not known to the local Stripe.</p>
      </section>
    </Page>
  );
}
