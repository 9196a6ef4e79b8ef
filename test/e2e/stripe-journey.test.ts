import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";
import { freePort, type RunningServer, startServer } from "../support/server.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const BIN = resolve(import.meta.dirname, "../../bin/tollgate.js");

/**
 * DESIGN section 8's promise, with real processes: the local Stripe on its own, the shop beside it,
 * the shop stopped while a payment's webhook fires, and Stripe's retry granting it after restart.
 */
describe("buying offline with the local Stripe as its own process", () => {
  let shop: RunningServer;
  let localStripe: ChildProcess;
  let stripeUrl: string;
  let env: Record<string, string>;
  let adminToken: string;

  beforeAll(async () => {
    shop = await startServer(["--demo"]);
    await shop.stop();
    const port = await freePort();
    stripeUrl = `http://127.0.0.1:${port}`;
    env = { ...shop.env, STRIPE_API_URL: stripeUrl };
    localStripe = spawn(
      process.execPath,
      [BIN, "local-stripe", "--port", String(port), "--async-delay", "500"],
      {
        cwd: shop.dir,
        env: { PATH: process.env.PATH ?? "", HOME: shop.dir, ...shop.env },
        stdio: "ignore",
      },
    );
    await waitFor(
      async () => (await fetch(`${stripeUrl}/_local/status`).catch(() => null))?.ok,
      "the local Stripe",
      20_000,
    );
    shop = await startServer([], env, shop.dir);
    adminToken = JSON.parse(
      await (await import("node:fs/promises")).readFile(`${shop.dir}/data/secrets.json`, "utf8"),
    ).adminToken;
  });
  afterAll(async () => {
    await shop.stop();
    localStripe.kill("SIGTERM");
  });

  const admin = async (path: string) =>
    (
      await fetch(`${shop.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
    ).json();
  const startCheckout = async () => {
    const res = await fetch(`${shop.url}/checkout/starter-kit`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: shop.url },
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const url = res.headers.get("location") as string;
    expect(url.startsWith(`${stripeUrl}/checkout/cs_`)).toBe(true);
    return { url, sessionId: url.split("/").pop() as string };
  };

  it("4242 -> success page -> download within seconds; decline shows a clear message", async () => {
    const declined = await payOnHostedPage((await startCheckout()).url, {
      card: "4000000000000002",
      email: "no@example.com",
    });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain("Your card was declined.");

    const { url } = await startCheckout();
    const paid = await payOnHostedPage(url, { email: "fast@example.com" });
    const success = paid.headers.get("location") as string;
    expect(success.startsWith(`${shop.url}/checkout/success?session_id=cs_`)).toBe(true);
    const page = await (await fetch(success)).text();
    expect(page).toContain("Payment received. Your files are ready.");
    const link = /href="([^"]*\/checkout\/download\/[^"]+)"/
      .exec(page)?.[1]
      ?.replace(/&amp;/g, "&");
    const file = await fetch(link as string);
    expect(file.status).toBe(200);
    expect(await file.text()).toContain("Tollgate demo download");
  });

  it("the shop is down while the webhook fires; Stripe's retry grants it after the restart", async () => {
    const { url, sessionId } = await startCheckout();
    await shop.stop();
    const paid = await payOnHostedPage(url, { email: "patient@example.com" });
    expect(paid.status).toBe(303);
    shop = await startServer([], env, shop.dir);
    const order = await waitFor(
      async () => {
        const { orders } = await admin("/api/admin/orders");
        return orders.find(
          (o: { checkoutSessionId: string; status: string }) =>
            o.checkoutSessionId === sessionId && o.status === "paid",
        );
      },
      "the retried webhook",
      30_000,
    );
    expect(order.email).toBe("patient@example.com");
    const { entitlements } = await admin("/api/admin/entitlements?email=patient@example.com");
    expect(entitlements).toEqual([
      expect.objectContaining({ status: "active", source: "purchase" }),
    ]);

    const refund = await cli(["local-stripe", "refund", sessionId, "--api-url", stripeUrl], env);
    expect(refund.code, refund.stderr).toBe(0);
    expect(refund.stdout).toMatch(/Refunded/);
    await waitFor(
      async () =>
        (await admin("/api/admin/entitlements?email=patient@example.com")).entitlements[0]
          .status === "revoked",
      "the refund",
    );

    const orders = await cli(["orders"], env);
    expect(orders.stdout).toMatch(/patient@example\.com/);
    expect(orders.stdout).toMatch(/refunded/);
    const events = await cli(["events"], env);
    expect(events.stdout).toMatch(/charge\.refunded\s+processed/);
    const reconcile = await cli(["reconcile", "--since", "1h"], env);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(reconcile.stdout).toMatch(/0 applied now, \d+ already handled, 0 failed/);
  });
});
