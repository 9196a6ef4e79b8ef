import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEBHOOK_SECRET } from "../support/harness.ts";
import { PATIENCE_MS } from "../support/patience.ts";
import { freePort } from "../support/server.ts";
import { payOnHostedPage, startTestStripe, waitFor } from "../support/stripe.ts";
import { freshWorkerDatabase, type WorkerDatabase } from "./support.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const ADMIN_TOKEN = "wrangler-dev-admin-token-0123456789";

/**
 * Issue 21: `npx wrangler dev` serves the Worker from the repository's wrangler.jsonc, offline,
 * with R2 emulated locally and Hyperdrive's local connection string pointing at Postgres, and a
 * purchase through the local Stripe ends in a download.
 */
describe.skipIf(!TEST_DATABASE_URL)("npx wrangler dev, offline", () => {
  let database: WorkerDatabase;
  let wrangler: ChildProcess;
  let output = "";
  let url: string;
  let stripe: Awaited<ReturnType<typeof startTestStripe>>["stripe"];

  beforeAll(async () => {
    database = await freshWorkerDatabase(TEST_DATABASE_URL as string);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    ({ stripe } = await startTestStripe({
      webhookUrl: `${url}/webhooks/stripe`,
      retry: { baseMs: 200, maxMs: 1000, maxAttempts: 20 },
    }));
    // The settings a seller puts in .dev.vars (.dev.vars.example), here in a file of the test's.
    const dir = mkdtempSync(join(tmpdir(), "tollgate-wrangler-"));
    const envFile = join(dir, ".dev.vars");
    writeFileSync(
      envFile,
      Object.entries({
        PUBLIC_URL: url,
        AUTH: "builtin",
        SUPABASE_URL: "",
        SUPABASE_ANON_KEY: "",
        MAIL_URL: "outbox:",
        MAIL_FROM: "",
        DELIVERY_MODE: "proxy",
        SESSION_SECRET: "s".repeat(64),
        ADMIN_TOKEN,
        STRIPE_SECRET_KEY: "sk_test_local",
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_URL: stripe.url,
      })
        .map(([name, value]) => `${name}=${value}`)
        .join("\n"),
    );
    const hyperdrive = new URL(database.url);
    hyperdrive.password ||= "unused";
    wrangler = spawn(
      process.execPath,
      [
        join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
        "dev",
        "--port",
        String(port),
        "--ip",
        "127.0.0.1",
        "--env-file",
        envFile,
        "--persist-to",
        join(dir, "state"),
        "--show-interactive-dev-session=false",
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: hyperdrive.toString(),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    wrangler.stdout?.on("data", (d) => (output += d));
    wrangler.stderr?.on("data", (d) => (output += d));
    await waitFor(
      async () => {
        if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
        return (await fetch(`${url}/readyz`).catch(() => null))?.ok;
      },
      "wrangler dev to serve the Worker",
      PATIENCE_MS,
    ).catch((error) => {
      throw new Error(`${error.message}; wrangler dev printed:\n${output}`);
    });
  });
  afterAll(async () => {
    if (wrangler && wrangler.exitCode === null) {
      const exited = new Promise((done) => wrangler.once("exit", done));
      wrangler.kill("SIGTERM");
      await exited;
    }
    await stripe?.close();
    await database?.drop();
  });

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it("serves the shop from workerd: a purchase through the local Stripe ends in a download from local R2", async () => {
    const created = await fetch(`${url}/api/admin/products`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({
        slug: "wr-kit",
        name: "Wrangler Kit",
        price: { amount: 900, currency: "usd" },
      }),
    });
    expect(created.status).toBe(201);
    const bytes = "wrangler dev bytes ".repeat(100);
    const uploaded = await fetch(`${url}/api/admin/products/wr-kit/assets?filename=kit.txt`, {
      method: "POST",
      headers: { ...admin, "content-type": "text/plain" },
      body: bytes,
    });
    expect(uploaded.status).toBe(201);

    const started = await fetch(`${url}/checkout/wr-kit`, {
      method: "POST",
      headers: { accept: "application/json", origin: url },
    });
    expect(started.status).toBe(201);
    const { url: payUrl, sessionId } = (await started.json()) as { url: string; sessionId: string };
    expect((await payOnHostedPage(payUrl, { email: "wrangler@example.com" })).status).toBe(303);

    const sync = await waitFor(async () => {
      const res = await fetch(`${url}/api/checkout/sync`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sessionId }),
      });
      const body = (await res.json()) as { status: string; files?: { downloadUrl: string }[] };
      return body.status === "paid" ? body : null;
    }, "the payment to be confirmed");
    const download = await fetch(sync.files?.[0]?.downloadUrl as string);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(bytes);

    // The receipt went to the outbox table, readable through the admin API as on Node.
    const outbox = await waitFor(async () => {
      const res = await fetch(`${url}/api/admin/outbox`, { headers: admin });
      const { messages } = (await res.json()) as { messages: { to: string; subject: string }[] };
      return messages.find((m) => m.to === "wrangler@example.com");
    }, "the receipt in the outbox");
    expect(outbox.subject).toContain("Wrangler Kit");
  });
});

describe("npx wrangler deploy --dry-run", () => {
  it("builds and checks the bundle wrangler would upload, without uploading", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "tollgate-dry-run-"));
    const { stdout } = await run(
      process.execPath,
      [
        join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
        "deploy",
        "--dry-run",
        "--outdir",
        outdir,
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: outdir, WRANGLER_SEND_METRICS: "false" },
      },
    );
    expect(stdout).toContain("--dry-run: exiting now.");
    // The main module within its budget, and the lazy PDF chunk beside it, nothing stale.
    expect(stdout).toMatch(/index\.js: [\d.]+ KB, [\d.]+ KB gzip \(budget/);
    expect(stdout.match(/chunks\/es-\w+\.js +│/g)).toHaveLength(1);
    expect(stdout).toContain("env.FILES (tollgate-files)");
  });
});
