import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devWorkerSettings } from "../../scripts/dev-worker.ts";
import { startDevWorker } from "../support/devWorker.ts";
import type { RunningServer } from "../support/server.ts";
import { freshWorkerDatabase, type WorkerDatabase } from "./support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const folder = () => mkdtempSync(join(tmpdir(), "tollgate-devworker-settings-"));

/** `npm run dev:worker` takes npm start's settings, under the same names (issue 21). */
describe("npm run dev:worker's settings", () => {
  it("refuses a database the Worker cannot reach, saying what to set", () => {
    for (const url of [undefined, "sqlite:./data/tollgate.db"])
      expect(() => devWorkerSettings({ DATABASE_URL: url }, folder())).toThrow(
        /DATABASE_URL: the Worker reaches Postgres through Hyperdrive: set a Postgres URL/,
      );
  });

  it("hands the Worker the shop's settings by their names, and fills in what npm start would", () => {
    const dir = folder();
    const settings = devWorkerSettings(
      {
        DATABASE_URL: "postgres://postgres@127.0.0.1:5432/shop",
        PORT: "9100",
        SHOP_NAME: "Kit Shop",
        DOWNLOAD_URL_TTL: "90s",
        CHECKOUT_PROMOTION_CODES: "true",
        PATH: "/usr/bin",
      },
      dir,
    );
    const secrets = JSON.parse(readFileSync(join(dir, "secrets.json"), "utf8"));
    expect(settings).toMatchObject({ host: "127.0.0.1", port: 9100, localStripe: true });
    expect(settings.vars).toMatchObject({
      PUBLIC_URL: "http://127.0.0.1:9100",
      SHOP_NAME: "Kit Shop",
      DOWNLOAD_URL_TTL: "90s",
      CHECKOUT_PROMOTION_CODES: "true",
      STORAGE_URL: "r2://tollgate-files",
      SESSION_SECRET: secrets.sessionSecret,
      ADMIN_TOKEN: secrets.adminToken,
      STRIPE_SECRET_KEY: "sk_test_local",
      STRIPE_WEBHOOK_SECRET: secrets.localStripeWebhookSecret,
      STRIPE_API_URL: "http://127.0.0.1:9101",
    });
    // Only settings reach the Worker; the database comes through Hyperdrive.
    expect(settings.vars).not.toHaveProperty("PATH");
    expect(settings.vars).not.toHaveProperty("DATABASE_URL");
  });

  it("says a bad setting in the configuration's words before starting anything", () => {
    expect(() =>
      devWorkerSettings(
        { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/shop", DOWNLOAD_URL_TTL: "soon" },
        folder(),
      ),
    ).toThrow(/DOWNLOAD_URL_TTL/);
  });
});

describe.skipIf(!TEST_DATABASE_URL)("npm run dev:worker's Cron Triggers", () => {
  let shop: RunningServer;
  let database: WorkerDatabase;
  beforeAll(async () => {
    database = await freshWorkerDatabase(TEST_DATABASE_URL as string, { migrate: false });
    shop = await startDevWorker({ DATABASE_URL: database.url });
  });
  afterAll(async () => {
    await shop?.stop();
    await database?.drop();
  });

  it("runs each of wrangler.jsonc's Cron Triggers on GET /__scheduled, as wrangler's test mode does", async () => {
    for (const cron of ["* * * * *", "17 * * * *"]) {
      const res = await fetch(`${shop.url}/__scheduled?cron=${encodeURIComponent(cron)}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`Ran scheduled event for "${cron}"\n`);
    }
    expect(shop.output()).not.toMatch(/scheduled run failed/);
    expect(shop.output()).toContain("listening on 127.0.0.1");
  });
});
