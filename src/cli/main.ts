import { Command, InvalidArgumentError } from "commander";
import { migrateToLatest } from "../db/migrate.ts";
import { startServer } from "../runtime/serve.ts";
import { grant, revoke, token } from "./commands/access.ts";
import { assetAdd } from "./commands/assets.ts";
import { doctor } from "./commands/doctor.ts";
import { activationLimitOption, expiresOption, onOff } from "./commands/licenseOptions.ts";
import {
  licenseKeygen,
  licenseLimit,
  licenseList,
  licenseReset,
  licenseRevoke,
  licenseShow,
} from "./commands/licenses.ts";
import { localStripeCommand } from "./commands/localStripe.ts";
import {
  eventsCommand,
  ordersCommand,
  reconcileCommand,
  replayCommand,
} from "./commands/orders.ts";
import { productAdd, productList, productUpdate } from "./commands/products.ts";
import { loadConfig, reportFailure, withRuntime } from "./run.ts";

const int = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number");
  return Number(value);
};

const program = new Command()
  .name("tollgate")
  .description(
    "Sell digital files and deliver them safely. Reads the same environment variables as the server.",
  )
  .showHelpAfterError();

program
  .command("serve")
  .description("start the web server (migrates the database first)")
  .option("--demo", "create a demo product with a demo file when the shop has no products")
  .option(
    "--host <host>",
    "address to listen on (default: HOST, or 127.0.0.1: this machine only; 0.0.0.0 for every network)",
  )
  .action(async (opts: { demo?: boolean; host?: string }) => {
    await startServer(loadConfig(), {
      demo: Boolean(opts.demo),
      ...(opts.host ? { host: opts.host } : {}),
    });
  });

program
  .command("migrate")
  .description("bring the database schema up to date (safe to run from several processes)")
  .action(() =>
    withRuntime(
      async (rt) => {
        const applied = await migrateToLatest(rt.deps.db, rt.config.database.dialect);
        console.log(
          applied.length ? `Applied: ${applied.join(", ")}` : "The database is up to date.",
        );
      },
      { migrate: false },
    ),
  );

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

const product = program.command("product").description("create, change and list products");
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
)
  .addHelpText(
    "after",
    `
Examples:
  $ tollgate product add --slug my-kit --name "My kit" --price 1900
  $ tollgate product add --slug my-app --name "My app" --price 4900 --license on --activation-limit 3`,
  )
  .action(productAdd);
withLicenseOptions(
  product
    .command("update <slug>")
    .description("change a product's name, description, price or licence keys; the rest stays")
    .option("--name <name>", "display name")
    .option("--description <text>", "what the buyer gets")
    .option("--price <minor>", "price in minor units, in the product's currency", int),
)
  .addHelpText(
    "after",
    `
Examples:
  $ tollgate product update my-app --license on --activation-limit 3
  $ tollgate product update my-app --activation-limit none --license-expires never
  $ tollgate product update my-app --license off     # no new keys; issued keys keep working
  $ tollgate product update my-kit --price 2400`,
  )
  .action(productUpdate);
product.command("list").description("list every product").action(productList);

const license = program
  .command("license")
  .description("see and manage licence keys: list, show, limit, reset, revoke, keygen");
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
  .action(licenseList);
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
  .action(licenseShow);
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
  .action(licenseLimit);
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
  .action(licenseReset);
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
  .action(licenseRevoke);
license
  .command("keygen")
  .description("print a new Ed25519 private key (JWK) for LICENSE_SIGNING_KEY")
  .addHelpText(
    "after",
    `
Example:
  $ LICENSE_SIGNING_KEY="$(tollgate license keygen)"   # then keep it in your secret store`,
  )
  .action(licenseKeygen);

program
  .command("asset")
  .description("manage a product's files")
  .command("add <slug> <file>")
  .description("upload a file to a product (shows progress and the sha256)")
  .option("--content-type <type>", "override the guessed content type")
  .option("--name <filename>", "the file name buyers see (default: the file's own name)")
  .action(assetAdd);

program
  .command("grant <email> <slug>")
  .description("give an email access to a product")
  .action(grant);

program
  .command("revoke [email] [slug]")
  .description(
    "take access away: every active grant or purchase of that email for the product, or one entitlement with --id",
  )
  .option("--id <entitlementId>", "revoke this one entitlement")
  .option("--reason <text>", "why, for the log and the buyer's message")
  .action(revoke);

program
  .command("token <email> <slug>")
  .description("create a download link for someone who owns the product")
  .option("--expires <duration>", "how long it works: 90m, 24h, 7d")
  .option("--max-uses <n>", "how many downloads it allows", int)
  .option("--asset <assetId>", "only this file")
  .action(token);

program
  .command("reconcile")
  .description(
    "fetch payment events from Stripe and apply the ones that were missed (safe to repeat)",
  )
  .option("--since <duration>", "how far back: 6h, 3d", "3d")
  .action(reconcileCommand);

program
  .command("orders")
  .description("list recent orders")
  .option("--limit <n>", "how many", int, 50)
  .action(ordersCommand);

program
  .command("events")
  .description("list recent payment events and how each was handled")
  .option("--limit <n>", "how many", int, 50)
  .action(eventsCommand);

program
  .command("replay <eventId>")
  .description("apply a recorded payment event again through the same path")
  .action(replayCommand);

program
  .command("doctor")
  .description("check configuration, database, storage, payments and mail, and say what is wrong")
  .action(doctor);

program.addCommand(localStripeCommand());

program.parseAsync().catch(reportFailure);
