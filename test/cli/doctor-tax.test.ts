import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";
import { freePort } from "../support/server.ts";

/**
 * `tollgate doctor` with automatic tax on asks Stripe for the account's tax registrations: none
 * means Checkout collects no tax, which doctor says with what to do. A small Stripe-shaped server
 * stands in for Stripe (STRIPE_SECRET_KEY + STRIPE_API_URL).
 */
describe("doctor: Stripe Tax registrations", () => {
  let dir: string;
  let env: Record<string, string>;
  let close: () => void;
  let answer: "none" | "one" | "two" | "unknown" = "none";
  let asked = 0;

  const list = (url: string, data: unknown[]) => ({ object: "list", data, has_more: false, url });
  const registration = (country: string) => ({
    id: `taxreg_${country}`,
    object: "tax.registration",
    active_from: 1_700_000_000,
    country,
    country_options: {},
    created: 1_700_000_000,
    expires_at: null,
    livemode: false,
    status: "active",
  });

  beforeAll(async () => {
    const app = new Hono()
      .get("/v1/events", (c) => c.json(list("/v1/events", [])))
      .get("/v1/tax/registrations", (c) => {
        asked++;
        if (answer === "unknown")
          return c.json(
            {
              error: {
                type: "invalid_request_error",
                message: "Unrecognized request URL (GET: /v1/tax/registrations).",
              },
            },
            404,
          );
        const data = {
          none: [],
          one: [registration("DE")],
          two: [registration("DE"), registration("FR")],
        }[answer];
        return c.json(list("/v1/tax/registrations", data));
      });
    const port = await freePort();
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
    close = () => server.close();
    dir = mkdtempSync(join(tmpdir(), "tollgate-doctor-tax-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      STORAGE_URL: `file:${join(dir, "files")}`,
      PUBLIC_URL: "http://localhost:9999",
      STRIPE_SECRET_KEY: "sk_test_doctor_tax",
      STRIPE_WEBHOOK_SECRET: "whsec_doctor_tax",
      STRIPE_API_URL: `http://127.0.0.1:${port}`,
    };
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  const doctor = (extra: Record<string, string> = {}) => cli(["doctor"], { ...env, ...extra });
  const taxLines = (stdout: string) => stdout.split("\n").filter((l) => /^. tax\s/.test(l));

  it("automatic tax on and no registrations: a warning, with what to do", async () => {
    answer = "none";
    const run = await doctor({ CHECKOUT_AUTOMATIC_TAX: "true" });
    expect(run.stdout).toMatch(/✓ payments\s+Stripe test key works/);
    const [line, ...more] = taxLines(run.stdout);
    expect(more).toEqual([]);
    expect(line).toMatch(
      /^! tax\s+automatic tax is on but the Stripe account has no tax registrations, so Checkout collects no tax/,
    );
    expect(line).toContain("Stripe Dashboard under Tax > Registrations");
    expect(line).toContain("tollgate checkout-settings --automatic-tax off");
  });

  it("with registrations: an ok line with how many", async () => {
    answer = "one";
    const one = await doctor({ CHECKOUT_AUTOMATIC_TAX: "true" });
    expect(taxLines(one.stdout)).toEqual([
      expect.stringMatching(/^✓ tax\s+Stripe Tax: 1 registration; automatic tax is on$/),
    ]);
    answer = "two";
    const two = await doctor({ CHECKOUT_AUTOMATIC_TAX: "true" });
    expect(taxLines(two.stdout)).toEqual([
      expect.stringMatching(/^✓ tax\s+Stripe Tax: 2 registrations/),
    ]);
  });

  it("a server that cannot say (404): an info line, no problem", async () => {
    answer = "unknown";
    const run = await doctor({ CHECKOUT_AUTOMATIC_TAX: "true" });
    expect(taxLines(run.stdout)).toEqual([
      expect.stringMatching(
        /^✓ tax\s+automatic tax is on; the Stripe server .* cannot report Stripe Tax registrations \(the local Stripe computes tax from its own table\)$/,
      ),
    ]);
  });

  it("automatic tax off: no tax line, and Stripe is not asked", async () => {
    answer = "none";
    const before = asked;
    const run = await doctor();
    expect(run.stdout).toMatch(/✓ payments\s+Stripe test key works/);
    expect(taxLines(run.stdout)).toEqual([]);
    expect(asked).toBe(before);
  });

  it("the shop's saved setting wins over CHECKOUT_AUTOMATIC_TAX", async () => {
    answer = "none";
    const on = await cli(["checkout-settings", "--automatic-tax", "on"], env);
    expect(on.code, on.stderr).toBe(0);
    const saidOn = await doctor({ CHECKOUT_AUTOMATIC_TAX: "false" });
    expect(taxLines(saidOn.stdout)).toEqual([
      expect.stringMatching(/^! tax\s+automatic tax is on but/),
    ]);

    const off = await cli(["checkout-settings", "--automatic-tax", "off"], env);
    expect(off.code, off.stderr).toBe(0);
    const saidOff = await doctor({ CHECKOUT_AUTOMATIC_TAX: "true" });
    expect(taxLines(saidOff.stdout)).toEqual([]);
  });
});
