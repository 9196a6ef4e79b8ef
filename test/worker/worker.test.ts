import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGET_GZIP_BYTES, withoutApiDocs } from "../../scripts/build-worker.ts";
import { apiDocumentText } from "../../src/http/openapi/document.ts";
import type { startLocalStripe } from "../../src/local-stripe/index.ts";
import { ADMIN_TOKEN, WEBHOOK_SECRET } from "../support/harness.ts";
import { mailApiReceiver } from "../support/mailApiReceiver.ts";
import { startS3Server } from "../support/s3-server.ts";
import { freePort } from "../support/server.ts";
import { payOnHostedPage, signature, startTestStripe, waitFor } from "../support/stripe.ts";
import { startSupabaseAuth } from "../support/supabase-server.ts";
import {
  freshWorkerDatabase,
  type RunningWorker,
  readWrangler,
  startWorker,
  type WorkerDatabase,
  workerBundle,
} from "./support.ts";

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const BUCKET = readWrangler().r2_buckets[0]?.bucket_name as string;
const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const admin = { ...bearer(ADMIN_TOKEN) };
const HOURLY = "17 * * * *";

/** Vars and secrets of a Worker set up like the seeds' stack, around the test's own servers. */
function shopVars(over: Record<string, string>): Record<string, string> {
  return {
    SESSION_SECRET: "worker-session-secret-0123456789abcdef",
    ADMIN_TOKEN,
    STRIPE_SECRET_KEY: "sk_test_local",
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STORAGE_URL: `r2://${BUCKET}`,
    ...over,
  };
}

/** A file big enough to go to R2 in two multipart parts, with a recognisable pattern. */
function fileBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 10)) & 0xff;
  return bytes;
}

/**
 * A POST whose answer may come before its body is sent. workerd answers a too-large upload at
 * once and cuts the connection; the client may see the 413 or only the cut (null here).
 */
function postAnsweredEarly(
  url: URL,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = request(url, { method: "POST", headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", () => resolve(null));
    });
    req.on("error", () => resolve(null));
    // The cut may also reach the socket after the answer, with nobody left to listen.
    req.on("socket", (socket) => socket.on("error", () => {}));
    req.end(body);
  });
}

const MAIL_KEY = "re_worker_0123456789abcdef";

describe("the Worker bundle", () => {
  it("builds from src/runtime/worker.ts within its gzip budget", async () => {
    const bundle = await workerBundle();
    expect(bundle.gzipBytes).toBeGreaterThan(50 * 1024);
    expect(bundle.gzipBytes).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });

  it("is what wrangler.jsonc deploys, with the bindings and Cron Trigger the Worker reads", () => {
    const wrangler = readWrangler();
    expect(wrangler.main).toBe("dist/worker/index.js");
    expect(wrangler.assets.directory).toBe("dist/worker/assets");
    expect(wrangler.compatibility_flags).toContain("nodejs_compat");
    expect(wrangler.hyperdrive.map((h) => h.binding)).toEqual(["HYPERDRIVE"]);
    expect(wrangler.r2_buckets.map((b) => b.binding)).toEqual(["FILES"]);
    expect(wrangler.vars.STORAGE_URL).toBe(`r2://${BUCKET}`);
    // Every minute the senders, every hour the reconcile and the clean-up (src/runtime/worker.ts
    // tells them apart by the schedule).
    expect(wrangler.triggers.crons).toEqual(["* * * * *", "17 * * * *"]);
  });
});

describe("what the Worker bundle is made of", () => {
  it("has zod/mini only: one classic `zod` import brings back ~11 KB gzip (src/core/zod.ts)", async () => {
    const { metafile } = await workerBundle();
    const inputs = Object.keys(metafile?.inputs ?? {});
    expect(inputs.some((path) => /zod[\\/]v4[\\/]mini[\\/]/.test(path))).toBe(true);
    expect(inputs.filter((path) => /zod[\\/]v4[\\/]classic[\\/]/.test(path))).toEqual([]);
  });
});

describe("the API reference in the Worker build", () => {
  it("is a static asset: neither hono-openapi nor the routes' descriptions are in the code", async () => {
    const { file, metafile } = await workerBundle();
    const inputs = Object.keys(metafile?.inputs ?? {});
    expect(inputs.filter((path) => /hono-openapi|standard-community/.test(path))).toEqual([]);
    const code = readFileSync(file, "utf8");
    expect(code).not.toContain("Give a product to an email");
  });

  it("cuts apiDoc calls past strings and comments, and refuses what it cannot read", () => {
    const source = `.get("/x", apiDoc({ summary: "a (b", tag: "T", /* ) */ e: [")"] }), handler)`;
    expect(withoutApiDocs(source, "x.ts")).toBe('.get("/x", handler)');
    expect(() => withoutApiDocs(".get(apiDoc({ a: 1 / 2 }), h)", "x.ts")).toThrow(/division/);
    const template = ".get(apiDoc({ a: `$" + "{b}` }), h)";
    expect(() => withoutApiDocs(template, "x.ts")).toThrow(/template/);
  });
});

describe("Stripe in the Worker build", () => {
  it("is the small fetch client, not the SDK (the adapter's calls are typed by api.ts)", async () => {
    const { file } = await workerBundle();
    const code = readFileSync(file, "utf8");
    expect(code).toContain("Tollgate-fetch");
    expect(code).not.toContain("NodeBindings");
  });
});

describe("a Worker that is not set up yet", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startWorker({
      vars: { STORAGE_URL: `r2://${BUCKET}` },
      databaseUrl: "postgres://nobody:nothing@127.0.0.1:9/none",
    });
  });
  afterAll(() => worker?.close());

  it("says in words which settings are missing, and never shows a stack trace", async () => {
    const res = await worker.fetch("/");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain("This shop is not set up correctly yet");
    for (const variable of ["PUBLIC_URL", "SESSION_SECRET", "STRIPE_SECRET_KEY"])
      expect(text).toContain(variable);
    expect(text).not.toMatch(/\bat .+:\d+:\d+/);
  });
});

describe("a Worker whose database does not answer", () => {
  let worker: RunningWorker;
  let silent: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Takes connections and says nothing, like a database behind a dead network path.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const port = await freePort();
    worker = await startWorker({
      port,
      vars: shopVars({ PUBLIC_URL: `http://127.0.0.1:${port}` }),
      databaseUrl: `postgres://tollgate:secret@127.0.0.1:${(silent.address() as AddressInfo).port}/tollgate`,
    });
  });
  afterAll(async () => {
    await worker?.close();
    for (const socket of sockets) socket.end();
    await new Promise((done) => silent.close(done));
  });

  it("is alive, and not ready, naming the database", async () => {
    expect((await worker.fetch("/healthz")).status).toBe(200);
    const ready = await worker.fetch("/readyz");
    expect(ready.status).toBe(503);
    const { checks } = (await ready.json()) as { checks: { name: string; ok: boolean }[] };
    expect(checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "database", ok: false }),
        expect.objectContaining({ name: "storage", ok: true }),
      ]),
    );
  });

  it("serves the API reference Node makes, from its static assets, cached and open to any site", async () => {
    const res = await worker.fetch("/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual(JSON.parse(await apiDocumentText()));
  });

  it("refuses a webhook whose signature does not match before touching anything", async () => {
    const body = JSON.stringify({ id: "evt_forged", object: "event", type: "charge.refunded" });
    const res = await worker.fetch("/webhooks/stripe", {
      method: "POST",
      headers: { "stripe-signature": signature(body, { secret: "whsec_someoneelse" }) },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/signature/i);
  });
});

describe.skipIf(!TEST_DATABASE_URL)("Tollgate on workerd, Postgres through Hyperdrive", () => {
  let database: WorkerDatabase;
  let supabase: Awaited<ReturnType<typeof startSupabaseAuth>>;
  beforeAll(async () => {
    database = await freshWorkerDatabase(TEST_DATABASE_URL as string);
    supabase = await startSupabaseAuth();
  });
  afterAll(async () => {
    await supabase?.close();
    await database?.drop();
  });

  const supabaseVars = () => ({
    AUTH: "supabase",
    SUPABASE_URL: supabase.url,
    SUPABASE_ANON_KEY: supabase.anonKey,
  });

  /** Creates a product and uploads its file through the Worker's admin API, into R2. */
  async function productWithFile(worker: RunningWorker, bytes: Uint8Array<ArrayBuffer>) {
    const slug = `kit-${Math.random().toString(36).slice(2, 8)}`;
    const created = await worker.fetch("/api/admin/products", {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ slug, name: "Worker Kit", price: { amount: 1500, currency: "usd" } }),
    });
    expect(created.status).toBe(201);
    const uploaded = await worker.fetch(`/api/admin/products/${slug}/assets?filename=kit.zip`, {
      method: "POST",
      headers: admin,
      body: new Blob([bytes]),
    });
    expect(uploaded.status).toBe(201);
    const asset = (await uploaded.json()) as { id: string; size: number; sha256: string };
    return { slug, asset };
  }

  async function buy(worker: RunningWorker, slug: string, token: string, email: string) {
    const started = await worker.fetch(`/checkout/${slug}`, {
      method: "POST",
      headers: { ...bearer(token), accept: "application/json" },
    });
    expect(started.status).toBe(201);
    const { url } = (await started.json()) as { url: string };
    expect((await payOnHostedPage(url, { email })).status).toBeLessThan(400);
  }

  async function library(worker: RunningWorker, token: string) {
    const res = await worker.fetch("/api/library", { headers: bearer(token) });
    expect(res.status).toBe(200);
    return (
      (await res.json()) as {
        items: { product: { slug: string }; files: { id: string; downloadUrl: string }[] }[];
      }
    ).items;
  }

  describe("proxy mode: webhooks, purchase and download through the R2 binding", () => {
    let worker: RunningWorker;
    let stripe: Awaited<ReturnType<typeof startLocalStripe>>;
    let mailApi: Awaited<ReturnType<typeof mailApiReceiver>>;
    beforeAll(async () => {
      const port = await freePort();
      mailApi = await mailApiReceiver();
      ({ stripe } = await startTestStripe({
        webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
        retry: { baseMs: 200, maxMs: 1000, maxAttempts: 5 },
      }));
      worker = await startWorker({
        port,
        databaseUrl: database.url,
        vars: shopVars({
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          STRIPE_API_URL: stripe.url,
          DELIVERY_MODE: "proxy",
          MAX_UPLOAD_SIZE: "10MB",
          MAIL_URL: mailApi.url,
          MAIL_API_KEY: MAIL_KEY,
          MAIL_FROM: "Worker Shop <shop@example.com>",
          ...supabaseVars(),
        }),
      });
    });
    afterAll(async () => {
      await worker?.close();
      await stripe?.close();
      await mailApi?.close();
    });

    it("sells a chosen price with a promotion code and German VAT through the fetch client (issue 20)", async () => {
      const settings = await worker.fetch("/api/admin/shop/checkout", {
        method: "PATCH",
        headers: { ...admin, "content-type": "application/json" },
        body: JSON.stringify({ promotionCodes: true, automaticTax: true, invoiceCreation: true }),
      });
      expect(settings.status).toBe(200);
      const { slug } = await productWithFile(worker, fileBytes(1000));
      const pwyw = await worker.fetch(`/api/admin/products/${slug}`, {
        method: "PATCH",
        headers: { ...admin, "content-type": "application/json" },
        body: JSON.stringify({ payWhatYouWant: { minimum: 500, suggested: 1500 } }),
      });
      expect(pwyw.status).toBe(200);
      const email = "worker-vat@example.com";
      const token = await supabase.token({ email });
      const started = await worker.fetch(`/checkout/${slug}`, {
        method: "POST",
        headers: { ...bearer(token), accept: "application/json" },
      });
      expect(started.status).toBe(201);
      const { url, orderId } = (await started.json()) as { url: string; orderId: string };
      const paid = await payOnHostedPage(url, {
        email,
        fields: { amount: "20.00", promotion_code: "TENOFF", country: "DE" },
      });
      expect(paid.status).toBe(303);
      const order = await waitFor(async () => {
        const res = await worker.fetch("/api/admin/orders?limit=1000", { headers: admin });
        const { orders } = (await res.json()) as {
          orders: { id: string; status: string }[];
        };
        const found = orders.find((o) => o.id === orderId);
        return found?.status === "paid" ? found : null;
      }, "the Worker to record the paid order");
      // 20.00 chosen, 10.00 off, 19% VAT on the 10.00 left: 1.90.
      expect(order).toMatchObject({
        amount: 2000,
        discount: 1000,
        tax: 190,
        total: 1190,
        net: 1000,
        country: "DE",
        invoiceId: expect.stringMatching(/^in_/),
      });
      expect((await library(worker, token)).map((i) => i.product.slug)).toContain(slug);
      await worker.fetch("/api/admin/shop/checkout", {
        method: "PATCH",
        headers: { ...admin, "content-type": "application/json" },
        body: JSON.stringify({
          promotionCodes: false,
          automaticTax: false,
          invoiceCreation: false,
        }),
      });
    });

    it("verifies a signed webhook with the async check, records it once, and refuses a tampered one", async () => {
      const event = {
        id: "evt_worker_signed",
        object: "event",
        type: "customer.created",
        livemode: false,
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: "cus_worker", object: "customer" } },
      };
      const body = JSON.stringify(event);
      const post = (payload: string, sig: string) =>
        worker.fetch("/webhooks/stripe", {
          method: "POST",
          headers: { "stripe-signature": sig, "content-type": "application/json" },
          body: payload,
        });

      const first = await post(body, signature(body));
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ received: true, duplicate: false });
      const again = await post(body, signature(body));
      expect(await again.json()).toMatchObject({ received: true, duplicate: true });

      const tampered = body.replace("customer.created", "charge.refunded");
      expect((await post(tampered, signature(body))).status).toBe(400);
      const future = signature(body, { timestamp: Math.floor(Date.now() / 1000) + 3600 });
      expect((await post(body, future)).status).toBe(400);

      const listed = await worker.fetch("/api/admin/webhook-events", { headers: admin });
      const { events } = (await listed.json()) as { events: { id: string; status: string }[] };
      expect(events.filter((e) => e.id === event.id)).toEqual([
        expect.objectContaining({ status: "ignored" }),
      ]);
    });

    it("a Supabase user buys, the webhook grants access, and the file streams from R2 with Range", async () => {
      const bytes = fileBytes(9 * 1024 * 1024 + 123);
      const { slug, asset } = await productWithFile(worker, bytes);
      // Hashed on the way in with Workers' DigestStream; two multipart parts in R2.
      expect(asset).toMatchObject({ size: bytes.byteLength, sha256: sha256(bytes) });

      const token = await supabase.token({ email: "worker-buyer@example.com" });
      expect(await library(worker, token)).toEqual([]);
      await buy(worker, slug, token, "worker-buyer@example.com");
      const items = await waitFor(async () => {
        const owned = await library(worker, token);
        return owned.length ? owned : null;
      }, "the webhook to grant the purchase");
      expect(items[0]?.product.slug).toBe(slug);
      const file = items[0]?.files[0];
      expect(file?.id).toBe(asset.id);
      const download = new URL(file?.downloadUrl as string).pathname;

      const whole = await worker.fetch(download, { headers: bearer(token) });
      expect(whole.status).toBe(200);
      expect(whole.headers.get("content-length")).toBe(String(bytes.byteLength));
      expect(whole.headers.get("etag")).toBe(`"${asset.sha256}"`);
      expect(whole.headers.get("content-disposition")).toContain("kit.zip");
      expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(asset.sha256);

      const part = await worker.fetch(download, {
        headers: { ...bearer(token), range: "bytes=8388600-8388700" },
      });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes 8388600-8388700/${bytes.byteLength}`);
      expect(part.headers.get("content-length")).toBe("101");
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(8388600, 8388701));

      const tail = await worker.fetch(download, {
        headers: { ...bearer(token), range: "bytes=-10" },
      });
      expect(tail.status).toBe(206);
      expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(-10));

      const beyond = await worker.fetch(download, {
        headers: { ...bearer(token), range: `bytes=${bytes.byteLength}-` },
      });
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get("content-range")).toBe(`bytes */${bytes.byteLength}`);

      const downloads = await worker.fetch("/api/admin/downloads", { headers: admin });
      expect(JSON.stringify(await downloads.json())).toContain(asset.id);

      // The receipt went out through the HTTP mail API, with a link to the shop, never to storage.
      const receipt = await waitFor(
        async () => mailApi.sent.find((m) => m.body.to.includes("worker-buyer@example.com")),
        "the receipt",
      );
      expect(receipt.authorization).toBe(`Bearer ${MAIL_KEY}`);
      expect(receipt.body.from).toBe("Worker Shop <shop@example.com>");
      expect(receipt.body.text).toContain(worker.url);
      expect(receipt.body.text).not.toMatch(/X-Amz-|r2\.cloudflarestorage/);
    });

    it("serves the pages, their stylesheet and scripts from the Worker", async () => {
      const { slug } = await productWithFile(worker, fileBytes(1000));
      const store = await worker.fetch("/", { headers: { accept: "text/html" } });
      expect(store.status).toBe(200);
      expect(store.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await store.text()).toContain(`/p/${slug}`);
      const product = await worker.fetch(`/p/${slug}`, { headers: { accept: "text/html" } });
      expect(await product.text()).toContain("Worker Kit");
      for (const [path, type] of [
        ["/assets/app.css", /^text\/css/],
        ["/assets/checkout.js", /javascript/],
        ["/assets/supabase-callback.js", /javascript/],
      ] as const) {
        const res = await worker.fetch(path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get("content-type"), path).toMatch(type);
      }
      const missing = await worker.fetch("/no/such/page", { headers: { accept: "text/html" } });
      expect(missing.status).toBe(404);
      expect(await missing.text()).not.toMatch(/"code"|\bat .+:\d+:\d+/);
    });

    it("runs doctor's checks on the seller's settings page, as on Node", async () => {
      const res = await worker.fetch("/admin/settings", {
        headers: { ...admin, accept: "text/html" },
      });
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).not.toContain("cannot run the checks");
      expect(page).toMatch(/database[\s\S]*reachable and up to date/);
      expect(page).toMatch(/storage[\s\S]*R2 bucket/);
      expect(page).toMatch(/payments[\s\S]*Stripe test key works/);
      // What differs for files on Workers: here the bucket has no S3 keys, so parts go through it.
      expect(page).toMatch(/uploads[\s\S]*go through the Worker in 8 MiB parts that resume/);
      expect(page).toMatch(/stamping[\s\S]*PDFs of up to 32 MiB are stamped/);
    });

    it("refuses a file over MAX_UPLOAD_SIZE and leaves nothing in R2", async () => {
      const before = (await (await worker.bucket()).list()).objects.map((o) => o.key);
      const slug = `big-${Math.random().toString(36).slice(2, 8)}`;
      await worker.fetch("/api/admin/products", {
        method: "POST",
        headers: { ...admin, "content-type": "application/json" },
        body: JSON.stringify({ slug, name: "Too Big", price: { amount: 900, currency: "usd" } }),
      });
      const res = await postAnsweredEarly(
        new URL(`/api/admin/products/${slug}/assets?filename=big.zip`, worker.url),
        admin,
        fileBytes(10_500_000),
      );
      if (res) {
        expect(res.status).toBe(413);
        expect((JSON.parse(res.body) as { code: string }).code).toBe("too_large");
      }
      const assets = await database.query(
        "select a.id from assets a join products p on p.id = a.product_id where p.slug = $1",
        [slug],
      );
      expect(assets).toEqual([]);
      const after = (await (await worker.bucket()).list()).objects.map((o) => o.key);
      expect(after).toEqual(before);
    });

    it("checks Supabase tokens: someone else's purchase, forged and wrong-audience tokens get nothing", async () => {
      const stranger = await supabase.token({ email: "stranger@example.com" });
      expect(await library(worker, stranger)).toEqual([]);
      const forged = await supabase.token(
        { email: "worker-buyer@example.com" },
        { alg: "HS256", secret: new TextEncoder().encode("not-the-project-secret-0123456789") },
      );
      const wrongAudience = await supabase.token({ email: "worker-buyer@example.com", aud: "x" });
      for (const token of [forged, wrongAudience, "not.a.jwt"]) {
        const res = await worker.fetch("/api/library", { headers: bearer(token) });
        expect(res.status).toBe(401);
      }
    });
  });

  describe("redirect mode and the Cron Trigger", () => {
    let worker: RunningWorker;
    let stripe: Awaited<ReturnType<typeof startLocalStripe>>;
    let s3: Awaited<ReturnType<typeof startS3Server>>;
    beforeAll(async () => {
      s3 = await startS3Server({ region: "auto", buckets: [BUCKET] });
      // A Stripe whose webhooks never arrive: only the Cron Trigger's reconcile can fulfil.
      ({ stripe } = await startTestStripe());
      const port = await freePort();
      worker = await startWorker({
        port,
        databaseUrl: database.url,
        vars: shopVars({
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          STRIPE_API_URL: stripe.url,
          DELIVERY_MODE: "redirect",
          // R2's S3 endpoint is https://<account>.r2.cloudflarestorage.com; here, the local one.
          S3_ENDPOINT: s3.url,
          S3_REGION: "auto",
          S3_ACCESS_KEY_ID: s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
          ...supabaseVars(),
        }),
      });
    });
    afterAll(async () => {
      await worker?.close();
      await stripe?.close();
      await s3?.close();
    });

    /** R2's binding and its S3 API are one bucket; here they are two stores, so copy across. */
    async function mirrorToS3() {
      const bucket = await worker.bucket();
      const client = new AwsClient({
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        service: "s3",
        region: "auto",
      });
      for (const { key } of (await bucket.list()).objects) {
        const object = await bucket.get(key);
        if (!object) continue;
        const put = await client.fetch(`${s3.url}/${BUCKET}/${key}`, {
          method: "PUT",
          body: new Uint8Array(await new Response(object.body).arrayBuffer()),
          headers: {
            "content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
            "content-disposition": object.httpMetadata?.contentDisposition ?? "",
          },
        });
        expect(put.status).toBe(200);
      }
    }

    it("a payment whose webhook never came is fulfilled by the Cron Trigger, and downloads through a SigV4 URL", async () => {
      const bytes = fileBytes(200_000);
      const { slug, asset } = await productWithFile(worker, bytes);
      const token = await supabase.token({ email: "cron-buyer@example.com" });
      await buy(worker, slug, token, "cron-buyer@example.com");
      await new Promise((r) => setTimeout(r, 300));
      expect(await library(worker, token)).toEqual([]);

      expect((await worker.scheduled(HOURLY)).outcome).toBe("ok");
      const [item] = await library(worker, token);
      expect(item?.product.slug).toBe(slug);

      const download = new URL(item?.files[0]?.downloadUrl as string).pathname;
      const redirect = await worker.fetch(download, { headers: bearer(token) });
      expect(redirect.status).toBe(302);
      const location = new URL(redirect.headers.get("location") as string);
      expect(location.origin).toBe(new URL(s3.url).origin);
      expect(location.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
      expect(Number(location.searchParams.get("X-Amz-Expires"))).toBe(300);

      await mirrorToS3();
      const fetched = await fetch(location);
      expect(fetched.status).toBe(200);
      expect(fetched.headers.get("content-disposition")).toContain("kit.zip");
      expect(sha256(new Uint8Array(await fetched.arrayBuffer()))).toBe(asset.sha256);

      const tampered = new URL(location);
      tampered.searchParams.set("X-Amz-Expires", "604800");
      expect((await fetch(tampered)).status).toBe(403);
    });

    it("the Cron Trigger deletes expired sessions and sign-in links and keeps live ones", async () => {
      const now = Date.now();
      await database.query(
        "insert into users (id, email, created_at) values ('usr_cron', 'cron@example.com', $1)",
        [now],
      );
      await database.query(
        `insert into sessions (token_hash, user_id, expires_at, created_at)
         values ('expired-session', 'usr_cron', $1, $1), ('live-session', 'usr_cron', $2, $1)`,
        [now - 1000, now + 3600_000],
      );
      await database.query(
        `insert into login_tokens (token_hash, code_hash, email, expires_at, created_at)
         values ('expired-link', 'c1', 'cron@example.com', $1, $1),
                ('live-link', 'c2', 'cron@example.com', $2, $1)`,
        [now - 1000, now + 600_000],
      );

      expect((await worker.scheduled(HOURLY)).outcome).toBe("ok");
      const sessions = await database.query<{ token_hash: string }>(
        "select token_hash from sessions where user_id = 'usr_cron'",
      );
      expect(sessions.map((s) => s.token_hash)).toEqual(["live-session"]);
      const links = await database.query<{ token_hash: string }>(
        "select token_hash from login_tokens where email = 'cron@example.com'",
      );
      expect(links.map((l) => l.token_hash)).toEqual(["live-link"]);
    });
  });
});
