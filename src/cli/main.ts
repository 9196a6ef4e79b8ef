import { Command, InvalidArgumentError } from "commander";
import { migrateToLatest } from "../db/migrate.ts";
import { startServer } from "../runtime/serve.ts";
import { grant, revoke, token } from "./commands/access.ts";
import { assetAdd } from "./commands/assets.ts";
import { doctor } from "./commands/doctor.ts";
import { localStripeCommand } from "./commands/localStripe.ts";
import {
  eventsCommand,
  ordersCommand,
  reconcileCommand,
  replayCommand,
} from "./commands/orders.ts";
import { productAdd, productList } from "./commands/products.ts";
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

const product = program.command("product").description("create and list products");
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
  .option("--unpublished", "create it hidden from the store")
  .action(productAdd);
product.command("list").description("list every product").action(productList);

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
