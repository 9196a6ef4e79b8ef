import { Command, InvalidArgumentError, Option } from "commander";

const DEFAULT_PORT = 12111;
const DEFAULT_API_URL = `http://127.0.0.1:${DEFAULT_PORT}`;

const int = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number");
  return Number(value);
};

/** `tollgate local-stripe`: serve the local Stripe, or trigger what happens on Stripe's side. */
export function localStripeCommand(): Command {
  const command = new Command("local-stripe")
    .description(
      "run the local Stripe (the Stripe API subset Tollgate uses, a hosted test checkout and signed webhooks), or trigger refunds, disputes, renewals and cancellations in a running one",
    )
    .option("--port <port>", "port to listen on", int, DEFAULT_PORT)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--webhook-url <url>", "where events are POSTed (default: PUBLIC_URL/webhooks/stripe)")
    .option(
      "--state-file <file>",
      "where objects, events and pending deliveries are kept (default: local-stripe.json in the database's folder)",
    )
    .option("--async-delay <ms>", "how long a bank transfer takes to settle", int, 3000)
    .showHelpAfterError()
    .addHelpText(
      "after",
      `
\`tollgate serve\` without STRIPE_SECRET_KEY already runs a local Stripe on PORT+1 (8788): the
commands below find it through the data folder. Run one on its own only to share it between
shops (point them at it with STRIPE_API_URL).

Examples:
  $ tollgate orders                           # the cs_... and pi_... ids of each order
  $ tollgate local-stripe refund cs_test_a1...
  $ tollgate local-stripe refund pi_... --amount 500
  $ tollgate local-stripe dispute pi_...
  $ tollgate local-stripe --port 12111        # a local Stripe of its own`,
    )
    .action(guard(serve));

  const trigger = (usage: string, description: string) =>
    command
      .command(usage)
      .description(description)
      .option(
        "--api-url <url>",
        `the running local Stripe (default: STRIPE_API_URL, else the one \`tollgate serve\` runs on PORT+1, else ${DEFAULT_API_URL})`,
      );

  trigger("refund <id>", "refund a payment: a Checkout Session, payment intent or charge id")
    .option("--amount <minor>", "refund only this much, in minor units (default: all of it)", int)
    .addHelpText(
      "after",
      `
The ids are in \`tollgate orders\`.

Examples:
  $ tollgate local-stripe refund cs_test_a1...
  $ tollgate local-stripe refund pi_... --amount 500   # 5.00 of it`,
    )
    .action(
      guard((id: string, opts: { apiUrl?: string; amount?: number }) =>
        call(opts.apiUrl, "/_local/refunds", { id, amount: opts.amount }),
      ),
    );
  trigger("dispute <id>", "open a dispute (chargeback) on a Checkout Session or payment intent")
    .addHelpText("after", example("dispute pi_...   # then: close-dispute du_... --outcome won"))
    .action(
      guard((id: string, opts: { apiUrl?: string }) =>
        call(opts.apiUrl, "/_local/disputes", { id }),
      ),
    );
  trigger(
    "close-dispute <dispute>",
    "close a dispute as won or lost, or an inquiry as warning_closed",
  )
    .addOption(
      new Option("--outcome <outcome>", "how the dispute ends")
        .choices(["won", "lost", "warning_closed"])
        .makeOptionMandatory(),
    )
    .addHelpText("after", example("close-dispute du_... --outcome lost"))
    .action(
      guard((dispute: string, opts: { apiUrl?: string; outcome: string }) =>
        call(opts.apiUrl, `/_local/disputes/${encodeURIComponent(dispute)}/close`, {
          outcome: opts.outcome,
        }),
      ),
    );
  trigger(
    "renew <id>",
    "roll a subscription (or a subscription Checkout Session) over to its next paid period",
  )
    .option("--fail", "the renewal's payment is declined: the invoice stays open, past_due")
    .addHelpText("after", example("renew sub_... --fail"))
    .action(
      guard((id: string, opts: { apiUrl?: string; fail?: boolean }) =>
        call(opts.apiUrl, `/_local/subscriptions/${encodeURIComponent(id)}/renew`, {
          ...(opts.fail ? { fail: true } : {}),
        }),
      ),
    );
  trigger("pay-invoice <invoice>", "pay an open invoice (a declined renewal) with another card")
    .addHelpText("after", example("pay-invoice in_..."))
    .action(
      guard((invoice: string, opts: { apiUrl?: string }) =>
        call(opts.apiUrl, `/_local/invoices/${encodeURIComponent(invoice)}/pay`, {}),
      ),
    );
  trigger("cancel <id>", "cancel a subscription (or a subscription Checkout Session) now")
    .option("--at-period-end", "cancel when the paid period ends instead")
    .addHelpText("after", example("cancel sub_... --at-period-end"))
    .action(
      guard((id: string, opts: { apiUrl?: string; atPeriodEnd?: boolean }) =>
        call(opts.apiUrl, `/_local/subscriptions/${encodeURIComponent(id)}/cancel`, {
          at_period_end: Boolean(opts.atPeriodEnd),
        }),
      ),
    );
  trigger("expire <session>", "expire an open Checkout Session")
    .addHelpText("after", example("expire cs_test_a1..."))
    .action(
      guard((session: string, opts: { apiUrl?: string }) =>
        call(opts.apiUrl, `/_local/sessions/${encodeURIComponent(session)}/expire`, {}),
      ),
    );
  return command;
}

const example = (line: string) => `\nExample:\n  $ tollgate local-stripe ${line}`;

// What runs is loaded only when it does (src/cli/actions.ts).
type Actions = typeof import("../actions.ts");
const actions = (): Promise<Actions> => import("../actions.ts");

const serve = async (opts: Parameters<Actions["localStripeServe"]>[0]) =>
  (await actions()).localStripeServe(opts);

/** POSTs one trigger to the running local Stripe and prints its answer. */
const call = async (apiUrl: string | undefined, path: string, body: Record<string, unknown>) =>
  (await actions()).localStripeCall(apiUrl ?? null, DEFAULT_API_URL, path, body);

/** Prints `Error: <message>` and exits 1 instead of a stack trace. */
function guard<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = error instanceof Error && error.name === "ConfigProblem" ? 2 : 1;
    }
  };
}
