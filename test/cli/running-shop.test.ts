import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";
import { freePort } from "../support/server.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

/**
 * Issue 16, point 7: `tollgate serve` started on another port in one terminal, the CLI run in
 * another without PORT exported. Every command runs as its own process, as a user runs it.
 */

const BIN = resolve(import.meta.dirname, "../../bin/tollgate.js");
const VERSION = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8"))
  .version as string;

const listen = (port: number) =>
  new Promise<Server>((done, fail) => {
    const server = createServer().once("error", fail);
    server.listen(port, "127.0.0.1", () => done(server));
  });

/** A free port whose neighbour is free too: the shop's and its local Stripe's. */
async function freePair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = await listen(port + 1).catch(() => null);
    if (next) {
      await new Promise((done) => next.close(done));
      return port;
    }
  }
}

/** The shop's data folder as the CLI is pointed at it: only DATABASE_URL and STORAGE_URL. */
const shopEnv = (dir: string) => ({
  DATABASE_URL: `sqlite:${join(dir, "data/tollgate.db")}`,
  STORAGE_URL: `file:${join(dir, "data/files")}`,
});

const stackTrace = /^\s+at /m;

describe("the CLI finds the shop `tollgate serve` runs on another port", () => {
  let dir: string;
  let port: number;
  let serve: ChildProcess;
  let output = "";
  let exited: Promise<number | null>;
  const run = (args: string[], extra: Record<string, string> = {}) =>
    cli(args, { ...shopEnv(dir), ...extra });
  const local = (url: string) => url.replace("//localhost:", "//127.0.0.1:");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-running-"));
    port = await freePair();
    // PORT in this terminal only; no PUBLIC_URL anywhere.
    serve = spawn(process.execPath, [BIN, "serve", "--demo"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, PORT: String(port), ...shopEnv(dir) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    serve.stdout?.on("data", (d) => (output += d));
    serve.stderr?.on("data", (d) => (output += d));
    exited = new Promise((done) => serve.once("exit", (code) => done(code)));
    await waitFor(
      async () =>
        output.includes("Tollgate is running") &&
        (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok,
      `the shop:\n${output}`,
    );
  });

  afterAll(async () => {
    if (serve.exitCode === null) serve.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("serve says where the local Stripe listens (PORT+1) and notes both in the data folder", () => {
    expect(output).toContain(`Tollgate is running: http://localhost:${port}`);
    expect(output).toMatch(
      new RegExp(
        `Payments go to the local Stripe .*http://127\\.0\\.0\\.1:${port + 1}\\s+\\(PORT\\+1\\)`,
      ),
    );
    const record = JSON.parse(readFileSync(join(dir, "data/serve.json"), "utf8"));
    expect(record).toMatchObject({
      pid: serve.pid,
      port,
      publicUrl: `http://localhost:${port}`,
      localStripeUrl: `http://127.0.0.1:${port + 1}`,
    });
  });

  it("token prints a link to the running shop, and the link downloads", async () => {
    const granted = await run(["grant", "buyer@example.com", "starter-kit"]);
    expect(granted.code).toBe(0);
    expect(granted.stdout).toContain(`sign in at http://localhost:${port}/auth/login`);

    const made = await run(["token", "buyer@example.com", "starter-kit"]);
    expect(made.code).toBe(0);
    expect(made.stderr).toBe("");
    const link = /^http:\/\/\S+/m.exec(made.stdout)?.[0] ?? "";
    expect(link).toMatch(new RegExp(`^http://localhost:${port}/d/tgd_`));
    const page = await fetch(local(link));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("starter-kit-readme.txt");
  });

  it("exported PUBLIC_URL or PORT still win over the running shop", async () => {
    const [publicUrl, otherPort] = await Promise.all([
      run(["token", "buyer@example.com", "starter-kit"], {
        PUBLIC_URL: "https://shop.example.com",
      }),
      run(["token", "buyer@example.com", "starter-kit"], { PORT: "4999" }),
    ]);
    expect(publicUrl.stdout).toMatch(/^https:\/\/shop\.example\.com\/d\/tgd_/m);
    expect(otherPort.stdout).toMatch(/^http:\/\/localhost:4999\/d\/tgd_/m);
  });

  it("orders shows the cs_ and pi_ ids, and local-stripe refund finds the local Stripe", async () => {
    const checkout = await fetch(`http://127.0.0.1:${port}/checkout/starter-kit`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: `http://localhost:${port}`,
      },
      redirect: "manual",
    });
    expect(checkout.status).toBe(303);
    const paid = await payOnHostedPage(checkout.headers.get("location") ?? "", {
      email: "payer@example.com",
    });
    expect(paid.status).toBe(303);

    type Order = { status: string; checkoutSessionId: string; paymentIntentId: string };
    const orderJson = async () =>
      (JSON.parse((await run(["orders", "--json"])).stdout) as { orders: Order[] }).orders[0];
    const order = await waitFor(async () => {
      const o = await orderJson();
      return o?.status === "paid" && o;
    }, "the paid order");
    expect(order.checkoutSessionId).toMatch(/^cs_/);
    expect(order.paymentIntentId).toMatch(/^pi_/);

    const table = await run(["orders"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^ORDER\s+CREATED\s+PRODUCT\s+STATUS\s+AMOUNT\s+EMAIL\s+FLAG\s+PAYMENT\s+CHECKOUT$/m,
    );
    const row = table.stdout.split("\n").find((line) => line.includes("payer@example.com")) ?? "";
    expect(row).toContain(order.paymentIntentId);
    expect(row).toContain(order.checkoutSessionId);

    const refunded = await run(["local-stripe", "refund", order.paymentIntentId]);
    expect(refunded.stderr).toBe("");
    expect(refunded.code).toBe(0);
    expect(refunded.stdout).toMatch(/refund/i);
    await waitFor(async () => (await orderJson())?.status === "refunded", "the refund");
  });

  it("a clean shutdown removes the note", async () => {
    serve.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, "data/serve.json"))).toBe(false);
  });
});

describe("without a running shop", () => {
  it("ignores a note whose process is gone, and says the link's address is a guess", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-stale-"));
    mkdirSync(join(dir, "data"));
    // A process that has ended: its pid names nothing now.
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((done) => gone.once("exit", done));
    writeFileSync(
      join(dir, "data/serve.json"),
      JSON.stringify({ pid: gone.pid, port: 4321, publicUrl: "http://localhost:4321" }),
    );
    const env = shopEnv(dir);
    const added = await cli(
      ["product", "add", "--slug", "kit", "--name", "Kit", "--price", "100"],
      env,
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toContain("Product page: http://localhost:8787/p/kit");
    const granted = await cli(["grant", "someone@example.com", "kit"], env);
    expect(granted.stdout).toContain("http://localhost:8787/auth/login");
    expect(granted.stderr).toContain(
      `Note: links use http://localhost:8787: no \`tollgate serve\` is running on ${join(dir, "data")}`,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it("local-stripe refund says where it looked and what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-nostripe-"));
    const port = await freePair();
    const refund = await cli(["local-stripe", "refund", "pi_123"], {
      ...shopEnv(dir),
      PORT: String(port),
    });
    expect(refund.code).toBe(1);
    expect(refund.stderr).toContain(`cannot reach a local Stripe at http://127.0.0.1:${port + 1}`);
    expect(refund.stderr).toContain("Is `tollgate serve` running");
    expect(refund.stderr).not.toMatch(stackTrace);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("a port collision on serve", () => {
  it("names the taken port, the shop's or the local Stripe's, in one line and no stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-collision-"));
    const [shopTaken, stripeTaken] = [await freePair(), await freePair()];
    const holders = [await listen(shopTaken), await listen(stripeTaken + 1)];
    try {
      const serveOn = (port: number) => cli(["serve"], { ...shopEnv(dir), PORT: String(port) });
      const [shop, stripe] = await Promise.all([serveOn(shopTaken), serveOn(stripeTaken)]);
      for (const result of [shop, stripe]) {
        expect(result.code).toBe(1);
        expect(result.stderr.trim().split("\n")).toHaveLength(1);
        expect(result.stderr).not.toMatch(stackTrace);
        expect(result.stderr).toMatch(
          /Stop the program using it, or start on other ports: PORT=\d+/,
        );
        expect(result.stdout).not.toContain("Tollgate is running");
      }
      expect(shop.stderr).toContain(`Error: Port ${shopTaken} (PORT) is already in use`);
      expect(stripe.stderr).toContain(`Error: Port ${stripeTaken + 1} is already in use`);
      expect(stripe.stderr).toContain(`the local Stripe listens on PORT+1 (${stripeTaken + 1})`);
    } finally {
      for (const holder of holders) holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("tollgate --version and --help", () => {
  it("--version prints the package's version", async () => {
    for (const flag of ["--version", "-V"]) {
      const result = await cli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(VERSION);
    }
  });

  it("every command's help, and the top level's, shows examples", async () => {
    const commands = [
      [],
      ["serve"],
      ["migrate"],
      ["product"],
      ["product", "add"],
      ["product", "update"],
      ["product", "list"],
      ["license"],
      ["license", "list"],
      ["license", "show"],
      ["license", "limit"],
      ["license", "reset"],
      ["license", "revoke"],
      ["license", "keygen"],
      ["asset"],
      ["asset", "add"],
      ["grant"],
      ["revoke"],
      ["token"],
      ["reconcile"],
      ["orders"],
      ["events"],
      ["replay"],
      ["doctor"],
      ["local-stripe"],
      ["local-stripe", "refund"],
      ["local-stripe", "dispute"],
      ["local-stripe", "close-dispute"],
      ["local-stripe", "renew"],
      ["local-stripe", "cancel"],
      ["local-stripe", "expire"],
    ];
    const helps = await Promise.all(commands.map((command) => cli([...command, "--help"])));
    helps.forEach((help, i) => {
      const name = ["tollgate", ...(commands[i] ?? [])].join(" ");
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toContain(`Usage: ${name}`);
      expect(help.stdout, name).toMatch(/\nExamples?:\n {2}\$ .*\btollgate /);
    });
    // The top level says where the local Stripe listens; serve's help, what a taken port does.
    expect(helps[0]?.stdout).toContain("PORT+1");
    expect(helps[0]?.stdout).toMatch(/-V, --version/);
    expect(helps[1]?.stdout).toContain("PORT+1 (8788)");
  });
});
