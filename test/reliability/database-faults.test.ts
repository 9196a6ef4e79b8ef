import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { startLocalStripe } from "../../src/local-stripe/index.ts";
import { dialects, freshDatabase, type TestDatabase } from "../support/databases.ts";
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "../support/harness.ts";
import { freePort, type RunningServer, startServer } from "../support/server.ts";
import { payOnHostedPage, signature, startTestStripe, waitFor } from "../support/stripe.ts";
import { startTcpProxy, type TcpProxy, viaProxy } from "../support/tcp-proxy.ts";

/**
 * Postgres goes away under traffic (the app's connections are cut, new ones refused) and comes
 * back: the server stays up, says it is not ready, refuses webhooks with 5xx so Stripe retries,
 * and recovers by itself, with the payment Stripe kept retrying granted. The machine's Postgres
 * is never stopped: a TCP proxy between the app and it is cut instead.
 */
describe.runIf(dialects.includes("postgres"))("a real server while Postgres is unreachable", () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let stripe: Awaited<ReturnType<typeof startLocalStripe>>;
  let server: RunningServer;

  beforeAll(async () => {
    database = await freshDatabase("postgres");
    const pgUrl = new URL(process.env.TEST_DATABASE_URL as string);
    proxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const port = await freePort();
    ({ stripe } = await startTestStripe({
      webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
      retry: { baseMs: 200, maxMs: 1000, maxAttempts: 200 },
    }));
    server = await startServer([], {
      PORT: String(port),
      DATABASE_URL: viaProxy(database.url, proxy),
      SESSION_SECRET: "s".repeat(40),
      ADMIN_TOKEN,
      STRIPE_API_URL: stripe.url,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await stripe?.close();
    await proxy?.close();
    await database?.drop();
  });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        "content-type": "application/json",
        ...init.headers,
      },
    });
  const postEvent = (event: Record<string, unknown>) => {
    const body = JSON.stringify(event);
    return fetch(`${server.url}/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature(body) },
      body,
    });
  };
  const answer = async (path: string, init: RequestInit = {}) => {
    const started = Date.now();
    const res = await fetch(`${server.url}${path}`, init);
    return { status: res.status, text: await res.text(), ms: Date.now() - started };
  };

  /** Browsing traffic that keeps connections checked out of the pool when the cut comes. */
  function browsing(slug: string, workers = 8) {
    const outcomes: (number | string)[] = [];
    let running = true;
    const loops = Array.from({ length: workers }, async (_, i) => {
      const paths = ["/", `/p/${slug}`, "/readyz", "/library"];
      for (let n = i; running; n++) {
        try {
          const res = await fetch(`${server.url}${paths[n % paths.length]}`);
          await res.arrayBuffer();
          outcomes.push(res.status);
        } catch (error) {
          outcomes.push(String((error as { cause?: unknown }).cause ?? error));
        }
      }
    });
    return {
      outcomes,
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  it("stays up, answers 503 on /readyz and 5xx to webhooks, then recovers by itself and grants the payment Stripe retried", async () => {
    const slug = `kit-${Date.now()}`;
    expect(
      (
        await admin("/api/admin/products", {
          method: "POST",
          body: JSON.stringify({ slug, name: "Kit", price: { amount: 1500, currency: "usd" } }),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin(`/api/admin/products/${slug}/assets?filename=kit.zip`, {
          method: "POST",
          body: "kit bytes",
          headers: { "content-type": "application/zip" },
        })
      ).status,
    ).toBe(201);
    const started = await fetch(`${server.url}/checkout/${slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    expect(started.status).toBe(201);
    const { url: checkoutUrl } = (await started.json()) as { url: string };

    const load = browsing(slug);
    await new Promise((r) => setTimeout(r, 1000));
    const before = proxy.accepted();
    proxy.cut();
    const outageStarted = Date.now();

    // Not ready, promptly, and saying which part is down.
    const ready = await waitFor(
      async () => {
        const r = await answer("/readyz");
        return r.status === 503 ? r : null;
      },
      "/readyz to turn 503",
      10_000,
    );
    expect(ready.ms).toBeLessThan(5000);
    expect(JSON.parse(ready.text).checks).toContainEqual(
      expect.objectContaining({ name: "database", ok: false }),
    );

    // The buyer pays during the outage: Stripe's webhook is refused and retried.
    expect((await payOnHostedPage(checkoutUrl, { email: "outage@example.com" })).status).toBe(303);
    const refused = await postEvent({
      id: `evt_outage_${Date.now()}`,
      object: "event",
      type: "customer.created",
      livemode: false,
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: "cus_outage", object: "customer" } },
    });
    expect(refused.status).toBe(503);

    // People get a page that says the shop is briefly unavailable, not a hang or a stack trace.
    const page = await answer("/", { headers: { accept: "text/html" } });
    expect(page.status).toBe(503);
    expect(page.text).toContain("cannot reach its database right now");
    expect(page.ms).toBeLessThan(5000);
    expect(page.text).toMatch(/<html/i);
    expect(page.text).not.toMatch(/at .*\.ts:\d+|Connection terminated|ECONN/);

    // Still alive: liveness needs no database.
    expect((await answer("/healthz")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await answer("/healthz")).status).toBe(200);

    proxy.restore();
    const outageMs = Date.now() - outageStarted;
    const recovered = Date.now();
    await waitFor(
      async () => (await answer("/readyz")).status === 200,
      "/readyz to recover",
      15_000,
    );
    const readyAfterMs = Date.now() - recovered;
    expect(proxy.accepted()).toBeGreaterThan(before);

    // Stripe's retry lands and grants access, with nobody restarting anything.
    const entitlements = await waitFor(
      async () => {
        const res = await admin("/api/admin/entitlements?email=outage%40example.com");
        const { entitlements } = (await res.json()) as { entitlements: { status: string }[] };
        return entitlements.length ? entitlements : null;
      },
      "the retried webhook to grant access",
      20_000,
    );
    expect(entitlements).toEqual([expect.objectContaining({ status: "active" })]);

    await load.stop();
    const failures = load.outcomes.filter((o) => typeof o === "string");
    // A request can only be lost if the server process died: none may be.
    expect(failures).toEqual([]);
    expect(load.outcomes.filter((o) => o === 200).length).toBeGreaterThan(0);
    const after = await Promise.all(["/", `/p/${slug}`, "/readyz"].map((p) => answer(p)));
    expect(after.map((a) => a.status)).toEqual([200, 200, 200]);
    console.log(
      `postgres outage: ${outageMs} ms; /readyz 503 after the cut in ${ready.ms} ms, 200 again ${readyAfterMs} ms after it returned; ${load.outcomes.length} browsing requests, ${load.outcomes.filter((o) => typeof o === "number" && o >= 500).length} of them 5xx during the outage`,
    );
  });
});
