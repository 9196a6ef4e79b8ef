import { Command, InvalidArgumentError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { disputeOption, pastDueDaysOption, refundOption } from "./commands/graceOptions.ts";
import { activationLimitOption, expiresOption, onOff } from "./commands/licenseOptions.ts";
import { localStripeCommand } from "./commands/localStripe.ts";
import { listPriceOption, payWhatYouWantOption, taxCodeOption } from "./commands/pricingOptions.ts";
import { reportFailure } from "./failure.ts";

type Actions = typeof import("./actions.ts");

/** A command's action, loaded only when that command runs (actions.ts, a bundle of its own). */
function lazy<K extends keyof Actions>(name: K) {
  return async (...args: unknown[]) => {
    const action = (await import("./actions.ts"))[name] as (...args: unknown[]) => unknown;
    await action(...args);
  };
}

/** "Examples:" after a command's help, one `$ tollgate ...` line each. */
const examples = (...lines: string[]) =>
  `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((line) => `  $ tollgate ${line}`).join("\n")}`;

const int = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number");
  return Number(value);
};

const program = new Command()
  .name("tollgate")
  .description(
    "Sell digital files and deliver them safely. Reads the same environment variables as the server.",
  )
  .version(pkg.version, "-V, --version", "print the version")
  .showHelpAfterError()
  .addHelpText(
    "after",
    `
Examples:
  $ tollgate serve --demo                 # the shop at http://localhost:8787, with a demo product
  $ PORT=4000 tollgate serve              # the shop on port 4000, its local Stripe on 4001
  $ tollgate product add --slug my-kit --name "My kit" --price 1900
  $ tollgate asset add my-kit ./my-kit.zip
  $ tollgate token buyer@example.com my-kit --expires 24h
  $ tollgate orders                       # with the cs_/pi_ ids local-stripe refund takes

Ports: the shop listens on PORT (8787); without STRIPE_SECRET_KEY, the local Stripe listens on
PORT+1. While \`tollgate serve\` runs it notes its address in serve.json in the data folder (beside
the SQLite database), so commands in another terminal print links to it and find its local
Stripe without PORT exported; PORT, PUBLIC_URL and STRIPE_API_URL, when set, win.`,
  );

program
  .command("serve")
  .description("start the web server (migrates the database first)")
  .option("--demo", "create a demo product with a demo file when the shop has no products")
  .option(
    "--host <host>",
    "address to listen on (default: HOST, or 127.0.0.1: this machine only; 0.0.0.0 for every network)",
  )
  .addHelpText(
    "after",
    `
The shop listens on PORT (default 8787). Without STRIPE_SECRET_KEY, payments go to a local Stripe
started beside it on PORT+1 (8788). If either port is taken, serve says which and stops.

Examples:
  $ tollgate serve --demo
  $ PORT=4000 tollgate serve        # the shop on 4000, the local Stripe on 4001
  $ tollgate serve --host 0.0.0.0   # reachable from other machines`,
  )
  .action(lazy("serve"));

program
  .command("migrate")
  .description("bring the database schema up to date (safe to run from several processes)")
  .addHelpText(
    "after",
    examples("migrate", "migrate   # with DATABASE_URL=postgres://... exported"),
  )
  .action(lazy("migrate"));

/** The licence options that `product add` and `product update` share. */
const withLicenseOptions = (command: Command) =>
  command
    .option("--license <on|off>", "give each buyer a licence key (on) or not (off)", onOff)
    .option(
      "--activation-limit <n|none>",
      "how many machines one key may be active on at once; none: no limit",
      activationLimitOption,
    )
    .option(
      "--license-expires <with-access|never>",
      "keys end with the buyer's access (a subscription's end), or never",
      expiresOption,
    );

/** The pricing options that `product add` and `product update` share (issue 20). */
const withPricingOptions = (command: Command) =>
  command
    .option(
      "--pay-what-you-want <minimum>[:<suggested>]",
      "buyers choose the amount, at least <minimum>, <suggested> offered first; minor units like --price (500:1500)",
      payWhatYouWantOption,
    )
    .option("--fixed-price", "turn pay what you want off: buyers pay the price")
    .option(
      "--list-price <amount|none>",
      "the usual price, shown crossed out beside a lower price (a sale), minor units; none: no sale",
      listPriceOption,
    )
    .option(
      "--tax-code <txcd_...|none>",
      "the Stripe tax code of what is sold (e.g. txcd_10000000); none: the Stripe account's default",
      taxCodeOption,
    );

const product = program
  .command("product")
  .description("create, change and list products")
  .addHelpText(
    "after",
    examples('product add --slug my-kit --name "My kit" --price 1900', "product list"),
  );
withPricingOptions(
  withLicenseOptions(
    product
      .command("add")
      .description("create a product")
      .requiredOption("--slug <slug>", "URL name, e.g. my-kit")
      .requiredOption("--name <name>", "display name")
      .option("--description <text>", "what the buyer gets", "")
      .option("--kind <kind>", "one_time, subscription or free", "one_time")
      .option("--price <minor>", "price in minor units: 1900 means 19.00", int)
      .option("--currency <code>", "three-letter currency code", "usd")
      .option("--interval <interval>", "for subscriptions: day, week, month or year")
      .option("--unpublished", "create it hidden from the store"),
  ),
)
  .addHelpText(
    "after",
    `
With --pay-what-you-want and no --price, the suggested amount (else the minimum) is the price.

Examples:
  $ tollgate product add --slug my-kit --name "My kit" --price 1900
  $ tollgate product add --slug my-app --name "My app" --price 4900 --license on --activation-limit 3
  $ tollgate product add --slug zine --name "Zine" --pay-what-you-want 300:800
  $ tollgate product add --slug my-kit --name "My kit" --price 1900 --list-price 2900 --tax-code txcd_10000000`,
  )
  .action(lazy("productAdd"));
withPricingOptions(
  withLicenseOptions(
    product
      .command("update <slug>")
      .description(
        "change a product's name, description, price, pricing, tax code, licence keys or grace policy; the rest stays",
      )
      .option("--name <name>", "display name")
      .option("--description <text>", "what the buyer gets")
      .option("--price <minor>", "price in minor units, in the product's currency", int)
      .option(
        "--past-due-days <n>",
        "days a subscriber keeps access after a failed payment, 0 to 60 (0: none)",
        pastDueDaysOption,
      )
      .option(
        "--refund <revokes|keeps|shop>",
        "what a full refund does to access; shop: REFUND_REVOKES_ACCESS decides",
        refundOption,
      )
      .option(
        "--dispute <suspends|keeps>",
        "what an opened dispute does to access (a lost one revokes it either way)",
        disputeOption,
      ),
  ),
)
  .addHelpText(
    "after",
    `
Examples:
  $ tollgate product update my-app --license on --activation-limit 3
  $ tollgate product update my-app --activation-limit none --license-expires never
  $ tollgate product update my-app --license off     # no new keys; issued keys keep working
  $ tollgate product update my-kit --price 2400
  $ tollgate product update my-club --past-due-days 7 --refund keeps --dispute keeps
  $ tollgate product update zine --pay-what-you-want 300:800   # buyers choose, at least $3.00
  $ tollgate product update zine --fixed-price                 # back to the price
  $ tollgate product update my-kit --price 1500 --list-price 1900   # a sale: $19.00 crossed out
  $ tollgate product update my-kit --list-price none           # the sale ends
  $ tollgate product update my-kit --tax-code txcd_10000000`,
  )
  .action(lazy("productUpdate"));
product
  .command("list")
  .description("list every product")
  .addHelpText("after", examples("product list"))
  .action(lazy("productList"));

const license = program
  .command("license")
  .description("see and manage licence keys: list, show, limit, reset, revoke, keygen")
  .addHelpText(
    "after",
    examples("license list --email buyer@example.com", "license reset lic_0123456789abcdef"),
  );
license
  .command("list")
  .description("list licence keys, newest first, with owner, status and activations")
  .option("--email <email>", "only the keys of this customer")
  .option("--product <slug>", "only the keys of this product")
  .option("--limit <n>", "how many at most", int, 100)
  .option("--json", "print the keys as JSON, as GET /api/admin/licenses answers")
  .addHelpText(
    "after",
    `
Examples:
  $ tollgate license list --email buyer@example.com
  $ tollgate license list --product my-app --json`,
  )
  .action(lazy("licenseList"));
license
  .command("show <id>")
  .description("show one key: owner, order, status, limit and every activation")
  .option("--json", "print it as JSON, as GET /api/admin/licenses/{id} answers")
  .addHelpText(
    "after",
    `
Example:
  $ tollgate license show lic_0123456789abcdef`,
  )
  .action(lazy("licenseShow"));
license
  .command("limit <id> <n|none>")
  .description(
    "set how many machines this customer's key may be active on; none: the product's limit again",
  )
  .option("--json", "print the key as JSON")
  .addHelpText(
    "after",
    `
Machines already active stay active; a lower limit only refuses new ones.

Examples:
  $ tollgate license limit lic_0123456789abcdef 5
  $ tollgate license limit lic_0123456789abcdef none`,
  )
  .action(lazy("licenseLimit"));
license
  .command("reset <id>")
  .description("free the key's activations (all of them, or one with --activation)")
  .option("--activation <id-or-fingerprint>", "free only this machine")
  .option("--json", "print the result as JSON")
  .addHelpText(
    "after",
    `
Examples:
  $ tollgate license reset lic_0123456789abcdef
  $ tollgate license reset lic_0123456789abcdef --activation old-laptop-fingerprint`,
  )
  .action(lazy("licenseReset"));
license
  .command("revoke <id>")
  .description("stop a key for good on every machine (the customer's downloads are not affected)")
  .option("--reason <text>", "why, for your records")
  .option("--json", "print the key as JSON")
  .addHelpText(
    "after",
    `
Example:
  $ tollgate license revoke lic_0123456789abcdef --reason "shared publicly"`,
  )
  .action(lazy("licenseRevoke"));
license
  .command("keygen")
  .description("print a new Ed25519 private key (JWK) for LICENSE_SIGNING_KEY")
  .addHelpText(
    "after",
    `
Example:
  $ LICENSE_SIGNING_KEY="$(tollgate license keygen)"   # then keep it in your secret store`,
  )
  .action(lazy("licenseKeygen"));

program
  .command("asset")
  .description("manage a product's files")
  .addHelpText("after", examples("asset add my-kit ./my-kit.zip"))
  .command("add <slug> <file>")
  .description("upload a file to a product (shows progress and the sha256)")
  .option("--content-type <type>", "override the guessed content type")
  .option("--name <filename>", "the file name buyers see (default: the file's own name)")
  .option("--resume", "continue an interrupted upload of this file where it stopped")
  .addHelpText(
    "after",
    examples(
      "asset add my-kit ./my-kit.zip          # a new version if my-kit.zip is there already",
      "asset add my-kit ./build/v2.zip --name my-kit.zip",
      "asset add my-kit ./course.mp4 --resume # after an upload was interrupted",
    ),
  )
  .action(lazy("assetAdd"));

const release = program
  .command("release")
  .description("publish a product's release (its files now, notes, what changed) and list them")
  .addHelpText(
    "after",
    examples("release add my-kit 1.2 --notes-file CHANGES.md --notify", "release list my-kit"),
  );
release
  .command("add <slug> <version>")
  .description(
    "publish a release: the product's active files now, with notes and what changed since the last release",
  )
  .option("--notes-file <file>", "the release notes, Markdown (e.g. CHANGES.md)")
  .option("--notes <text>", "the release notes as text, instead of a file")
  .option("--notify", "mail every buyer who has access now, with a progress bar until all are sent")
  .option(
    "--json",
    "print the release as JSON, as POST /api/admin/products/{slug}/releases answers",
  )
  .addHelpText(
    "after",
    examples(
      "release add my-kit 1.2 --notes-file CHANGES.md",
      'release add my-kit 1.3 --notes "Fixes the dark theme." --notify',
    ),
  )
  .action(lazy("releaseAdd"));
release
  .command("list <slug>")
  .description("list a product's releases, newest first, with what each changed")
  .option("--json", "print them as JSON, as GET /api/admin/products/{slug}/releases answers")
  .addHelpText("after", examples("release list my-kit"))
  .action(lazy("releaseList"));

program
  .command("grant <email> <slug>")
  .description("give an email access to a product")
  .addHelpText("after", examples("grant buyer@example.com my-kit"))
  .action(lazy("grant"));

program
  .command("revoke [email] [slug]")
  .description(
    "take access away: every active grant or purchase of that email for the product, or one entitlement with --id",
  )
  .option("--id <entitlementId>", "revoke this one entitlement")
  .option("--reason <text>", "why, for the log and the buyer's message")
  .addHelpText(
    "after",
    examples(
      'revoke buyer@example.com my-kit --reason "chargeback"',
      "revoke --id ent_0123456789abcdef",
    ),
  )
  .action(lazy("revoke"));

program
  .command("why <email> <slug>")
  .description(
    "say why a customer has (or has not) access to a product, with every change: when, what, who, why",
  )
  .option("--json", "print it as JSON, as GET /api/admin/access-history answers")
  .addHelpText(
    "after",
    `
The email finds the customer's purchases, grants and claims made with that address and those of
the account signed in with it. Who: a Stripe event id, the seller, the CLI or the system.
${examples("why buyer@example.com my-kit", "why buyer@example.com my-kit --json")}`,
  )
  .action(lazy("why"));

program
  .command("trace <file>")
  .description(
    "say which order a leaked copy of a stamped PDF came from: order, email, product and date",
  )
  .option("--json", "print it as JSON")
  .addHelpText(
    "after",
    `
Reads the invisible trace id that products with "stamp PDFs" on put in every buyer's copy, and
looks it up in the shop's database.
${examples("trace leaked.pdf", "trace leaked.pdf --json")}`,
  )
  .action(lazy("trace"));

program
  .command("token <email> <slug>")
  .description("create a download link for someone who owns the product")
  .option("--expires <duration>", "how long it works: 90m, 24h, 7d")
  .option(
    "--after-first-use <duration>",
    "also end it this long after its first download (whichever comes first): 72h, 7d",
  )
  .option("--max-uses <n>", "how many downloads it allows", int)
  .option("--asset <assetId>", "only this file")
  .addHelpText(
    "after",
    `
The link points at the shop: PUBLIC_URL, else http://localhost:PORT, else the address of the
\`tollgate serve\` running on this data folder.
${examples("token buyer@example.com my-kit", "token buyer@example.com my-kit --expires 7d --max-uses 3", "token buyer@example.com my-kit --expires 30d --after-first-use 72h")}`,
  )
  .action(lazy("token"));

program
  .command("reopen <order>")
  .description(
    "re-open an order whose access has ended, for a while, and mail the buyer a fresh download link",
  )
  .option("--for <duration>", "how long access works again: 7d, 48h", "7d")
  .option("--json", "print the result as JSON")
  .addHelpText(
    "after",
    `
<order> is the order's id (ord_...) or the reference on its receipt (7KQ4M-2ZPXA). Refused for an
order that was refunded or lost a dispute (grant access instead), one with a dispute open, an
unpaid one, and one whose access has not ended (resend the receipt instead).
${examples("reopen 7KQ4M-2ZPXA --for 7d", "reopen ord_0123456789abcdefghij --for 48h")}`,
  )
  .action(lazy("reopen"));

program
  .command("reconcile")
  .description(
    "fetch payment events from Stripe and apply the ones that were missed (safe to repeat)",
  )
  .option("--since <duration>", "how far back: 6h, 3d", "3d")
  .addHelpText("after", examples("reconcile", "reconcile --since 6h"))
  .action(lazy("reconcileCommand"));

program
  .command("orders")
  .description("list recent orders, with the Stripe ids (cs_..., pi_... or sub_...) to act on")
  .option("--limit <n>", "how many", int, 50)
  .option("--json", "print the orders as JSON, as GET /api/admin/orders answers")
  .option(
    "--csv",
    "print every completed order as CSV (subtotal, discount, tax, total, net, country, tax IDs, invoice), for the books",
  )
  .addHelpText(
    "after",
    examples(
      "orders --limit 10",
      "orders --json",
      "orders --csv > orders.csv",
      "local-stripe refund pi_...   # refund an order paid through the local Stripe",
    ),
  )
  .action(lazy("ordersCommand"));

program
  .command("events")
  .description("list recent payment events and how each was handled")
  .option("--limit <n>", "how many", int, 50)
  .addHelpText("after", examples("events --limit 20"))
  .action(lazy("eventsCommand"));

program
  .command("replay <eventId>")
  .description("apply a recorded payment event again through the same path")
  .addHelpText(
    "after",
    examples("replay evt_0123456789abcdef   # an id that `tollgate events` lists"),
  )
  .action(lazy("replayCommand"));

program
  .command("checkout-settings")
  .description(
    "show or change what Stripe Checkout does: automatic tax, tax IDs, invoices, promotion codes, prices with tax",
  )
  .option("--automatic-tax <on|off>", "Stripe Tax computes and collects tax at checkout", onOff)
  .option("--tax-ids <on|off>", "business buyers may enter their tax ID (VAT number)", onOff)
  .option("--invoices <on|off>", "Stripe makes an invoice for each one-time payment", onOff)
  .option("--promotion-codes <on|off>", "buyers may enter a promotion code", onOff)
  .option(
    "--prices-include-tax <on|off>",
    "prices include tax (on) or tax is added to them (off); applies with automatic tax",
    onOff,
  )
  .addHelpText(
    "after",
    `
Without options, prints the settings. Until saved here (or on the settings page), each comes from
its CHECKOUT_* variable (CHECKOUT_AUTOMATIC_TAX, CHECKOUT_TAX_ID_COLLECTION,
CHECKOUT_INVOICE_CREATION, CHECKOUT_PROMOTION_CODES). Automatic tax needs tax registrations in
the Stripe Dashboard (Tax > Registrations): \`tollgate doctor\` says when there are none.
${examples(
  "checkout-settings",
  "checkout-settings --automatic-tax on --tax-ids on",
  "checkout-settings --invoices on --promotion-codes on",
  "checkout-settings --prices-include-tax on   # prices as set include VAT",
)}`,
  )
  .action(lazy("checkoutSettingsCommand"));

program
  .command("doctor")
  .description("check configuration, database, storage, payments and mail, and say what is wrong")
  .addHelpText(
    "after",
    examples("doctor", "doctor   # with the production environment exported, before deploying"),
  )
  .action(lazy("doctor"));

program.addCommand(localStripeCommand());

program.parseAsync().catch(reportFailure);
