/**
 * Sharing detection on Workers (issue 19, point 4; decision 0028): the real bundle in workerd,
 * each buyer's network taken from CF-Connecting-IP as Cloudflare sets it. A buyer past the
 * seller's threshold is flagged, the seller alerted once through the mail API, the next download
 * asks for a confirmation mailed to the buyer, and the link lets them on. test/http/sharing.test.ts
 * makes the same checks, and more, on Node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "../support/harness.ts";
import { mailApiReceiver } from "../support/mailApiReceiver.ts";
import { waitFor } from "../support/stripe.ts";
import {
  freshWorkerDatabase,
  type RunningWorker,
  readWrangler,
  startWorker,
  type WorkerDatabase,
} from "./support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const BUCKET = readWrangler().r2_buckets[0]?.bucket_name as string;
const PUBLIC_URL = "https://shop.example.com";
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const json = { ...admin, "content-type": "application/json" };
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

describe.skipIf(!TEST_DATABASE_URL)("sharing detection on workerd", () => {
  let database: WorkerDatabase;
  let worker: RunningWorker;
  let mail: Awaited<ReturnType<typeof mailApiReceiver>>;

  beforeAll(async () => {
    mail = await mailApiReceiver();
    database = await freshWorkerDatabase(TEST_DATABASE_URL as string);
    worker = await startWorker({
      databaseUrl: database.url,
      vars: {
        SESSION_SECRET: "worker-session-secret-0123456789abcdef",
        ADMIN_TOKEN,
        ADMIN_EMAILS: "owner@shop.test",
        STRIPE_SECRET_KEY: "sk_test_local",
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STORAGE_URL: `r2://${BUCKET}`,
        DELIVERY_MODE: "proxy",
        PUBLIC_URL,
        MAIL_URL: mail.url,
        MAIL_API_KEY: "re_worker_sharing_0123456789abcdef",
        MAIL_FROM: "Worker Shop <shop@example.com>",
      },
    });
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await database?.drop();
    await mail?.close();
  });

  /** A request from `ip` as Cloudflare passes it on; JSON unless `html`. */
  const from = (ip: string, path: string, init: RequestInit & { html?: boolean } = {}) => {
    const headers = new Headers(init.headers);
    headers.set("cf-connecting-ip", ip);
    headers.set("user-agent", FIREFOX);
    headers.set("accept", init.html ? "text/html" : "application/json");
    return worker.fetch(path, { ...init, headers, redirect: "manual" });
  };
  const download = async (ip: string, path: string) => {
    const res = await from(ip, path);
    return { status: res.status, text: await res.text() };
  };
  const alerts = () =>
    mail.to("owner@shop.test").filter((m) => m.body.subject.includes("Possibly shared"));

  it("flags a buyer past the threshold, alerts once, asks by mail and lets them on", async () => {
    expect(
      (
        await worker.fetch("/api/admin/products", {
          method: "POST",
          headers: json,
          body: JSON.stringify({
            slug: "shared-kit",
            name: "Shared Kit",
            price: { amount: 900, currency: "usd" },
          }),
        })
      ).status,
    ).toBe(201);
    const uploaded = await worker.fetch("/api/admin/products/shared-kit/assets?filename=kit.zip", {
      method: "POST",
      headers: admin,
      body: "the kit's bytes",
    });
    expect(uploaded.status).toBe(201);
    const asset = (await uploaded.json()) as { id: string };
    const email = "traveller@example.com";
    expect(
      (
        await worker.fetch("/api/admin/grants", {
          method: "POST",
          headers: json,
          body: JSON.stringify({ email, product: "shared-kit" }),
        })
      ).status,
    ).toBe(201);
    const link = await worker.fetch("/api/admin/tokens", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, product: "shared-kit", expiresIn: "7d" }),
    });
    const { token } = (await link.json()) as { token: string };
    const path = `/d/${token}/${asset.id}`;

    const saved = await worker.fetch("/admin/settings/sharing", {
      method: "POST",
      headers: { ...admin, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        enabled: "on",
        networks: "2",
        devices: "3",
        windowHours: "24",
      }).toString(),
      redirect: "manual",
    });
    expect(saved.status).toBe(303);

    // Two networks: within the threshold. The third goes past: it still downloads, and the
    // seller hears of it once.
    expect(await download("198.51.100.7", path)).toEqual({ status: 200, text: "the kit's bytes" });
    expect((await download("203.0.113.9", path)).status).toBe(200);
    expect(alerts()).toHaveLength(0);
    expect((await download("192.0.2.44", path)).status).toBe(200);
    await expect.poll(() => alerts().length).toBe(1);
    expect(alerts()[0]?.body.text).toContain(email);

    // The next download asks, with the next step for a program.
    const asked = await download("198.51.100.7", path);
    expect(asked.status).toBe(403);
    const body = JSON.parse(asked.text) as {
      code: string;
      next: { method: string; url: string; body: unknown };
    };
    expect(body.code).toBe("confirm_required");
    expect((await download("100.64.9.9", path)).status).toBe(403);
    expect(alerts()).toHaveLength(1);

    const sent = await from("198.51.100.7", "/sharing/confirm", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body.next.body),
    });
    expect(sent.status).toBe(202);
    const confirmation = await waitFor(
      async () => mail.to(email).find((m) => m.body.subject.includes("Confirm it's you")),
      "the confirmation mail",
    );
    const url = /https:\/\/shop\.example\.com(\/sharing\/confirm\?token=[\w-]+)/.exec(
      confirmation.body.text,
    )?.[1];
    expect(url, confirmation.body.text).toBeTruthy();

    const confirmed = await from("198.51.100.7", url as string, { html: true });
    expect(confirmed.status).toBe(303);
    expect(await download("198.51.100.7", path)).toEqual({ status: 200, text: "the kit's bytes" });
    expect((await from("198.51.100.7", url as string, { html: true })).status).toBe(410);
  }, 60_000);
});
