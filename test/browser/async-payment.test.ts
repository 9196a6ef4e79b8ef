import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchBrowser, screenshot } from "../support/browser.ts";
import { PATIENCE_MS } from "../support/patience.ts";
import { freePort, type RunningServer, startServer } from "../support/server.ts";
import { waitFor } from "../support/stripe.ts";

const BIN = resolve(import.meta.dirname, "../../bin/tollgate.js");
const ADMIN_TOKEN = "async-payment-admin-token-0123456789";
const WEBHOOK_SECRET = "whsec_YXN5bmMtcGF5bWVudC1icm93c2VyLXRlc3Q";

/**
 * A bank transfer in a real Chromium against a real `tollgate serve --demo`. Its local Stripe runs
 * as `tollgate local-stripe` with a settlement delay longer than the test, so the page is surely
 * seen pending; the test then settles the transfer with the local Stripe's trigger and watches
 * the same page, never reloaded by hand, turn ready or failed.
 */
describe.skipIf(!CHROMIUM)("an async payment in a real browser", () => {
  let server: RunningServer;
  let stripe: { url: string; stop(): Promise<void> };
  let browser: Browser;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-async-"));
    const [shopPort, stripePort] = [await freePort(), await freePort()];
    const env = {
      PORT: String(shopPort),
      PUBLIC_URL: `http://127.0.0.1:${shopPort}`,
      DATABASE_URL: `sqlite:${join(dir, "data/tollgate.db")}`,
      STORAGE_URL: `file:${join(dir, "data/files")}`,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    };
    stripe = await startLocalStripeProcess(dir, stripePort, env);
    server = await startServer(
      ["--demo"],
      { ...env, STRIPE_API_URL: stripe.url, ADMIN_TOKEN },
      dir,
    );
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await stripe?.stop();
  });

  /** Product page -> Buy -> the local checkout's bank transfer button -> the success page. */
  async function payByBankTransfer(page: Page, email: string, button: RegExp) {
    await page.goto(`${server.url}/p/starter-kit`);
    await page.getByRole("button", { name: "Buy now" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: button }).click();
    await page.waitForURL(/\/checkout\/success\?session_id=cs_/);
    await page.getByRole("heading", { name: "Confirming your payment..." }).waitFor();
    // A reload would wipe this; it must survive the page turning ready or failed.
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    return new URL(page.url()).searchParams.get("session_id") as string;
  }

  const settle = async (sessionId: string) => {
    const res = await fetch(`${stripe.url}/_local/sessions/${sessionId}/settle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const notReloaded = (page: Page) =>
    page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true);
  const orderStatus = async (sessionId: string) => {
    const res = await fetch(`${server.url}/api/admin/orders`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const { orders } = (await res.json()) as {
      orders: { status: string; checkoutSessionId: string | null }[];
    };
    return orders.find((o) => o.checkoutSessionId === sessionId)?.status;
  };

  it("a guest pays by bank transfer; the pending page turns ready by itself once it settles, and the download matches", async () => {
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 375, height: 800 },
    });
    const page = await context.newPage();
    const sessionId = await payByBankTransfer(page, "transfer@example.com", /^Bank transfer \(/);
    const live = page.locator("#checkout-status");
    expect(await live.getAttribute("aria-live")).toBe("polite");
    expect(await live.innerText()).toContain("This page updates by itself");
    expect(await live.innerText()).toContain(
      "a receipt with a download link that works for 24 hours",
    );
    await expect(page.getByRole("link", { name: /^Download / }).count()).resolves.toBe(0);
    await screenshot(page, "checkout-pending");
    // Some seconds of polling: still pending, nothing to download.
    await page.waitForTimeout(2500);
    expect(await page.getByRole("heading", { name: "Confirming your payment..." }).count()).toBe(1);
    expect(await orderStatus(sessionId)).toBe("pending");

    await settle(sessionId);
    await page
      .getByText("Payment received. Your files are ready.")
      .waitFor({ timeout: PATIENCE_MS });
    expect(await notReloaded(page)).toBe(true);
    expect(await page.title()).toContain("Your files are ready");
    expect(await live.innerText()).toContain("transfer@example.com");
    await screenshot(page, "checkout-ready-after-transfer");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download starter-kit-readme.txt" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("starter-kit-readme.txt");
    const bytes = await readFile((await download.path()) as string);
    const uploaded = /file uploaded product=starter-kit .*sha256=([0-9a-f]{64})/.exec(
      server.output(),
    )?.[1];
    expect(uploaded).toBeDefined();
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(uploaded);
    await context.close();
  });

  it("without JavaScript, the pending page refreshes itself until the payment is confirmed", async () => {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 375, height: 800 },
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/p/starter-kit`);
    await page.getByRole("button", { name: "Buy now" }).click();
    await page.getByLabel("Email").fill("nojs@example.com");
    await page.getByRole("button", { name: /^Bank transfer \(/ }).click();
    await page.waitForURL(/\/checkout\/success\?session_id=cs_/);
    await page.getByRole("heading", { name: "Confirming your payment..." }).waitFor();
    await settle(new URL(page.url()).searchParams.get("session_id") as string);
    await page
      .getByText("Payment received. Your files are ready.")
      .waitFor({ timeout: PATIENCE_MS });
    await page.getByRole("link", { name: "Download starter-kit-readme.txt" }).waitFor();
    await context.close();
  });

  it("a bank transfer that fails turns the same page into a clear failure, and the download is refused", async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
    const page = await context.newPage();
    const sessionId = await payByBankTransfer(page, "bounced@example.com", /that fails/);
    await settle(sessionId);

    await page
      .getByRole("heading", { name: "The payment failed" })
      .waitFor({ timeout: PATIENCE_MS });
    expect(await notReloaded(page)).toBe(true);
    expect(await page.getByRole("alert").innerText()).toBe(
      "Your bank did not complete the payment. Nothing was charged; you can try again with another method.",
    );
    await expect(page.getByRole("link", { name: /^Download / }).count()).resolves.toBe(0);
    await page.getByRole("link", { name: "Try again" }).waitFor();
    await screenshot(page, "checkout-payment-failed");

    const assets = await fetch(`${server.url}/api/admin/products/starter-kit/assets`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }).then((r) => r.json() as Promise<{ assets: { id: string }[] }>);
    const refused = await page.goto(
      `${server.url}/checkout/download/${assets.assets[0]?.id}?session_id=${sessionId}`,
    );
    expect(refused?.status()).toBe(403);
    await page.getByText("The payment for this purchase failed").waitFor();
    await screenshot(page, "checkout-failed-download-refused");
    await waitFor(async () => (await orderStatus(sessionId)) === "failed", "the failed order");
    await context.close();
  });
});

/** `tollgate local-stripe` as its own process, with bank transfers that wait for the trigger. */
async function startLocalStripeProcess(
  dir: string,
  port: number,
  env: Record<string, string>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, "local-stripe", "--port", String(port), "--async-delay", String(3_600_000)],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`local Stripe exited early:\n${output}`);
      return fetch(`${url}/_local/status`).then(
        (r) => r.ok,
        () => false,
      );
    },
    "the local Stripe",
    20_000,
  );
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
