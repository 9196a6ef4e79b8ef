import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";
import { freePort } from "../support/server.ts";
import {
  localStripe,
  payByCard,
  paymentSession,
  sdk,
  waitFor,
  webhookEndpoint,
} from "./support.ts";

/** `tollgate local-stripe` as a user runs it, in its own process. */

const BIN = resolve(import.meta.dirname, "../../bin/tollgate.js");

describe("tollgate local-stripe", () => {
  it("explains itself with --help", async () => {
    const [top, sub] = await Promise.all([
      cli(["local-stripe", "--help"]),
      cli(["local-stripe", "close-dispute", "--help"]),
    ]);
    expect(top.code).toBe(0);
    for (const name of ["refund", "dispute", "close-dispute", "renew", "cancel", "expire"])
      expect(top.stdout).toContain(name);
    expect(top.stdout).toContain("--webhook-url");
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain("--outcome");
  });

  it("triggers a refund in a running local Stripe and says what it did in one line", async () => {
    const endpoint = await webhookEndpoint();
    const local = await localStripe(endpoint.url);
    try {
      const session = await paymentSession(local.stripe);
      await payByCard(session);
      const [refund, missing, unreachable] = await Promise.all([
        cli(["local-stripe", "refund", session.id, "--api-url", local.url]),
        cli(["local-stripe", "expire", "cs_test_nope", "--api-url", local.url]),
        cli(["local-stripe", "renew", "sub_x", "--api-url", "http://127.0.0.1:9"]),
      ]);
      expect(refund.stderr).toBe("");
      expect(refund.code).toBe(0);
      expect(refund.stdout.trim().split("\n")).toHaveLength(1);
      expect(refund.stdout).toMatch(
        /^Refunded \$19\.00 of pi_\w+ \(re_\w+\)\. Sent charge\.refunded, refund\.created\.\n$/,
      );
      const received = await endpoint.waitForCount(5);
      expect(received.slice(3).map((r) => r.event.type)).toEqual([
        "charge.refunded",
        "refund.created",
      ]);

      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe("Error: No such checkout.session: 'cs_test_nope'\n");
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toMatch(/cannot reach a local Stripe at http:\/\/127\.0\.0\.1:9/);
    } finally {
      await local.close();
      await endpoint.close();
    }
  });

  it("serves standalone with a webhook secret kept in data/secrets.json", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-local-stripe-cli-"));
    const secretsFile = join(dir, "data", "secrets.json");
    const secret = () => JSON.parse(readFileSync(secretsFile, "utf8")).localStripeWebhookSecret;
    const endpoint = await webhookEndpoint({ secret });
    const port = await freePort();
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(STRIPE_|PUBLIC_URL|DATABASE_URL|PORT)/.test(k),
      ),
    );
    const child = spawn(process.execPath, [BIN, "local-stripe", "--port", String(port)], {
      cwd: dir,
      env: {
        ...env,
        DATABASE_URL: `sqlite:${join(dir, "data", "shop.db")}`,
        PUBLIC_URL: new URL(endpoint.url).origin,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((done) => child.once("exit", done));
    try {
      await waitFor(
        () => output.includes("Local Stripe is running"),
        `startup:\n${output}`,
        20_000,
      );
      expect(secret()).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      expect(statSync(secretsFile).mode & 0o777).toBe(0o600);

      const stripe = sdk(`http://127.0.0.1:${port}`);
      const session = await paymentSession(stripe);
      const expired = await cli(["local-stripe", "expire", session.id], {
        STRIPE_API_URL: `http://127.0.0.1:${port}`,
      });
      expect(expired.stdout).toBe(`Expired ${session.id}. Sent checkout.session.expired.\n`);
      const [delivery] = await endpoint.waitForCount(1);
      expect(delivery?.event.type).toBe("checkout.session.expired");
      expect(endpoint.rejected).toEqual([]);
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await endpoint.close();
    }
    expect(
      JSON.parse(readFileSync(join(dir, "data", "local-stripe.json"), "utf8")).events,
    ).toHaveLength(1);
  });
});
