/**
 * The senders on Workers (issue 17): outgoing webhooks and release update mails leave after the
 * answer (waitUntil), the first webhook retry too, and what is left goes with the per-minute
 * Cron Trigger. The real bundle in workerd, Postgres through Hyperdrive, a real receiver and a
 * real HTTP mail API.
 */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIRST_RETRY_MS, retryDelay, TIMEOUT_MS } from "../../src/core/webhooks/send.ts";
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "../support/harness.ts";
import { mailApiReceiver } from "../support/mailApiReceiver.ts";
import { freePort } from "../support/server.ts";
import { waitFor } from "../support/stripe.ts";
import { type Received, webhookReceiver } from "../support/webhookReceiver.ts";
import {
  freshWorkerDatabase,
  type RunningWorker,
  readWrangler,
  startWorker,
  type WorkerDatabase,
} from "./support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const BUCKET = readWrangler().r2_buckets[0]?.bucket_name as string;
const EVERY_MINUTE = "* * * * *";
/** What Cloudflare gives waitUntil after the answer: the first retry must fit in it. */
const WAIT_UNTIL_MS = 30_000;
const MAIL_KEY = "re_worker_mails_0123456789abcdef";
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface Delivery {
  messageId: string;
  type: string;
  status: string;
  attempts: number;
  responseStatus: number | null;
}

describe("the webhook retry schedule", () => {
  it("puts the first retry, with its timeout, inside waitUntil's 30 s", () => {
    expect(retryDelay(1)).toBe(FIRST_RETRY_MS);
    expect(FIRST_RETRY_MS + TIMEOUT_MS).toBeLessThan(WAIT_UNTIL_MS);
  });
});

describe.skipIf(!TEST_DATABASE_URL)("webhooks and update mails on workerd", () => {
  let database: WorkerDatabase;
  let worker: RunningWorker;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let mailApi: Awaited<ReturnType<typeof mailApiReceiver>>;
  /** Paths whose endpoint is down (answers 503) for now. */
  const down = new Set<string>();

  beforeAll(async () => {
    database = await freshWorkerDatabase(TEST_DATABASE_URL as string);
    receiver = await webhookReceiver();
    // "/flaky" fails its first request only; a path in `down` fails until taken out.
    receiver.respondWith((r) => ({
      status:
        down.has(r.path) || (r.path === "/flaky" && receiver.at("/flaky").length === 1) ? 500 : 200,
    }));
    mailApi = await mailApiReceiver();
    const port = await freePort();
    worker = await startWorker({
      port,
      databaseUrl: database.url,
      vars: {
        SESSION_SECRET: "worker-session-secret-0123456789abcdef",
        ADMIN_TOKEN,
        STRIPE_SECRET_KEY: "sk_test_local",
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STORAGE_URL: `r2://${BUCKET}`,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        MAIL_URL: mailApi.url,
        MAIL_API_KEY: MAIL_KEY,
        MAIL_FROM: "Worker Shop <shop@example.com>",
        WEBHOOK_ALLOW_PRIVATE_URLS: "true",
        // Two update mails a minute: the first batch after publishing takes two, no more.
        RELEASE_MAIL_RATE: "2",
      },
    });
  });
  afterAll(async () => {
    await worker?.close();
    await receiver?.close();
    await mailApi?.close();
    await database?.drop();
  });

  async function adminJson<T>(path: string, method = "GET", body?: unknown): Promise<T> {
    const res = await worker.fetch(path, {
      method,
      headers: { ...admin, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return (await res.json()) as T;
  }

  /** A product with one file in R2, so that it can be released. */
  async function product(): Promise<string> {
    const slug = `kit-${Math.random().toString(36).slice(2, 8)}`;
    await adminJson("/api/admin/products", "POST", {
      slug,
      name: "Worker Kit",
      price: { amount: 1500, currency: "usd" },
    });
    const uploaded = await worker.fetch(`/api/admin/products/${slug}/assets?filename=kit.zip`, {
      method: "POST",
      headers: admin,
      body: new Blob([new TextEncoder().encode(`the files of ${slug}`)]),
    });
    expect(uploaded.status).toBe(201);
    return slug;
  }

  /** An endpoint for access.granted at `path` of the receiver; deleted by the caller. */
  const register = (path: string) =>
    adminJson<{ id: string; secret: string }>("/api/admin/webhook-endpoints", "POST", {
      url: receiver.url(path),
      events: ["access.granted"],
    });
  const unregister = (id: string) => adminJson(`/api/admin/webhook-endpoints/${id}`, "DELETE");
  const grant = (email: string, slug: string) =>
    adminJson("/api/admin/grants", "POST", { email, product: slug });
  const deliveries = async (endpointId: string) =>
    (
      await adminJson<{ deliveries: Delivery[] }>(
        `/api/admin/webhook-endpoints/${endpointId}/deliveries`,
      )
    ).deliveries;
  const verified = (secret: string, r: Received) =>
    new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
      type: string;
      data: Record<string, unknown>;
    };

  it("an event is delivered after the answer, signed as Standard Webhooks says, with no Cron fired", async () => {
    const endpoint = await register("/granted");
    const slug = await product();
    await grant("hooked@example.com", slug);

    const [request] = await waitFor(
      async () => (receiver.at("/granted").length ? receiver.at("/granted") : null),
      "the delivery",
    );
    const event = verified(endpoint.secret, request as Received);
    expect(event.type).toBe("access.granted");
    expect(event.data).toMatchObject({ email: "hooked@example.com", productSlug: slug });
    // The published verifier really checks: another secret fails it.
    const other = `whsec_${Buffer.from("x".repeat(32)).toString("base64")}`;
    expect(() => verified(other, request as Received)).toThrow();

    const [logged] = await waitFor(async () => {
      const log = await deliveries(endpoint.id);
      return log[0]?.status === "delivered" ? log : null;
    }, "the delivery log to say delivered");
    expect(logged).toMatchObject({ type: "access.granted", attempts: 1, responseStatus: 200 });
    expect(logged?.messageId).toBe(request?.headers["webhook-id"]);
    await unregister(endpoint.id);
  });

  it("a failed first try is retried within 30 s by the same waitUntil, with no Cron fired", async () => {
    const endpoint = await register("/flaky");
    await grant("flaky@example.com", await product());

    await waitFor(async () => receiver.at("/flaky").length >= 1, "the first try");
    const [first, retry] = await waitFor(
      async () => (receiver.at("/flaky").length >= 2 ? receiver.at("/flaky") : null),
      "the retry, within waitUntil's 30 s of the first try",
      WAIT_UNTIL_MS,
    );
    // One message: the same webhook-id and body, each try signed.
    expect(retry?.headers["webhook-id"]).toBe(first?.headers["webhook-id"]);
    expect(retry?.body).toBe(first?.body);
    expect(verified(endpoint.secret, retry as Received).type).toBe("access.granted");

    const [logged] = await waitFor(async () => {
      const log = await deliveries(endpoint.id);
      return log[0]?.status === "delivered" ? log : null;
    }, "the delivery log to say delivered");
    expect(logged).toMatchObject({ status: "delivered", attempts: 2, responseStatus: 200 });
    await unregister(endpoint.id);
  });

  it("a delivery still pending after waitUntil is sent by the per-minute Cron", async () => {
    down.add("/down");
    const endpoint = await register("/down");
    await grant("later@example.com", await product());

    // The first try and the retry waitUntil makes both fail; the next retry is left for later.
    await waitFor(async () => {
      const [row] = await database.query<{ attempts: number; lease_until: string | null }>(
        "select attempts, lease_until from webhook_deliveries where endpoint_id = $1",
        [endpoint.id],
      );
      return row?.attempts === 2 && row.lease_until === null;
    }, "two failed tries, settled");
    const [pending] = await deliveries(endpoint.id);
    expect(pending).toMatchObject({ status: "pending", attempts: 2, responseStatus: 500 });
    expect(receiver.at("/down")).toHaveLength(2);

    // The receiver is back, and the next retry falls due (as if its wait were over).
    down.delete("/down");
    await database.query(
      "update webhook_deliveries set next_attempt_at = $1 where endpoint_id = $2",
      [Date.now(), endpoint.id],
    );
    expect((await worker.scheduled(EVERY_MINUTE)).outcome).toBe("ok");

    const sent = receiver.at("/down");
    expect(sent).toHaveLength(3);
    expect(verified(endpoint.secret, sent[2] as Received).data).toMatchObject({
      email: "later@example.com",
    });
    const [logged] = await deliveries(endpoint.id);
    expect(logged).toMatchObject({ status: "delivered", attempts: 3, responseStatus: 200 });
    await unregister(endpoint.id);
  });

  it("a release with notify mails its buyers: the first batch after the answer, the rest with the per-minute Cron", async () => {
    const slug = await product();
    const buyers = ["ann@example.com", "bob@example.com", "cy@example.com"];
    for (const email of buyers) await grant(email, slug);
    const releaseMails = () => mailApi.sent.filter((m) => m.body.subject.includes(" 1.1 is out"));

    await adminJson(`/api/admin/products/${slug}/releases`, "POST", {
      version: "1.1",
      notes: "Faster, and a new chapter.",
      notify: true,
    });
    /** How many of the release's notices are in each status. */
    const notices = async () =>
      Object.fromEntries(
        (
          await database.query<{ status: string; n: string }>(
            `select n.status, count(*) as n from release_notices n
             join releases r on r.id = n.release_id join products p on p.id = r.product_id
             where p.slug = $1 group by n.status`,
            [slug],
          )
        ).map((c) => [c.status, Number(c.n)]),
      );
    // The first batch leaves without a Cron, two mails at this rate; the third waits.
    await waitFor(async () => (await notices()).sent === 2, "the first batch");
    expect(await notices()).toEqual({ sent: 2, queued: 1 });
    expect(releaseMails()).toHaveLength(2);

    expect((await worker.scheduled(EVERY_MINUTE)).outcome).toBe("ok");
    const mails = releaseMails();
    expect(mails.map((m) => m.body.to[0]).sort()).toEqual(buyers);
    expect(await notices()).toEqual({ sent: 3 });

    for (const mail of mails) {
      expect(mail.authorization).toBe(`Bearer ${MAIL_KEY}`);
      expect(mail.body.subject).toBe("Worker Kit 1.1 is out");
      // RFC 8058's one-click unsubscribe reaches the mail API as header fields of the message.
      expect(mail.body.headers?.["List-Unsubscribe"]).toMatch(
        new RegExp(`^<${worker.url}/unsubscribe\\?token=[^>]+>$`),
      );
      expect(mail.body.headers?.["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    }
  });
});
