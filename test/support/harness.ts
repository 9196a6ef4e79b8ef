import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { silentLogger } from "../../src/adapters/log-console/index.ts";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { parseConfig } from "../../src/config.ts";
import type { Logger, PdfStamper } from "../../src/core/ports.ts";
import { buildNodeRuntime, type NodeRuntime } from "../../src/runtime/node.ts";
import { freshDatabase } from "./databases.ts";
import { freePort } from "./server.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5";
export const PUBLIC_URL = "http://shop.test";

/** A clock the test moves; it also ticks 1 ms per reading, as real time would, so order is stable. */
export class TestClock {
  constructor(public time = Date.now()) {}
  now = () => ++this.time;
  advance(ms: number) {
    this.time += ms;
  }
}

export type Harness = Awaited<ReturnType<typeof makeHarness>>;

/**
 * The real composition root (buildNodeRuntime) over a fresh database of the given dialect, a
 * temporary storage folder, the outbox mailer and a clock the test can move.
 */
export async function makeHarness(
  dialect: "sqlite" | "postgres",
  env: Record<string, string> = {},
  /** stripe: the local Stripe runs and delivers webhooks to the app; "manual": it runs, but the
   * test delivers events itself (in any order, any number of times). */
  opts: { stripe?: boolean | "manual"; log?: Logger; pdfStamper?: PdfStamper } = {},
) {
  const database = await freshDatabase(dialect);
  const clock = new TestClock();
  // With stripe: the app also listens on a real port, so the local Stripe can deliver webhooks.
  const appPort = opts.stripe === true ? await freePort() : 0;
  const config = parseConfig({
    DATABASE_URL: database.url,
    STORAGE_URL: `file:${mkdtempSync(join(tmpdir(), "tollgate-files-"))}`,
    PUBLIC_URL,
    SESSION_SECRET: "s".repeat(40),
    ADMIN_TOKEN,
    ADMIN_EMAILS: "owner@shop.test",
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...env,
  });
  const runtime: NodeRuntime = await buildNodeRuntime(config, {
    log: opts.log ?? silentLogger,
    clock,
    ...(opts.pdfStamper ? { pdfStamper: opts.pdfStamper } : {}),
    ...(opts.stripe
      ? {
          localStripe: {
            port: 0,
            webhookUrl:
              opts.stripe === "manual"
                ? "http://127.0.0.1:9/nowhere"
                : `http://127.0.0.1:${appPort}/webhooks/stripe`,
          },
        }
      : {}),
  });
  const { app } = runtime;
  const server =
    opts.stripe === true ? serve({ fetch: app.fetch, port: appPort, hostname: "127.0.0.1" }) : null;

  const request = async (path: string, init: RequestInit & { cookie?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set("cookie", init.cookie);
    const res = await app.request(new URL(path, PUBLIC_URL).toString(), { ...init, headers });
    // Download log rows land after the answer; tests read them as soon as it comes.
    await runtime.settle();
    return res;
  };
  const admin = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    return request(path, { ...init, headers, body: body ?? null });
  };

  async function lastMailTo(email: string) {
    const [message] = await readOutbox(runtime.deps.db, { to: email, limit: 1 });
    if (!message) throw new Error(`no mail to ${email}`);
    return message;
  }

  /** Signs in the way a person does: ask for a link, open it from the outbox, keep the cookie. */
  async function signIn(email: string): Promise<string> {
    const asked = await request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    if (asked.status !== 202)
      throw new Error(`sign-in request failed: ${asked.status} ${await asked.text()}`);
    // The newest mail carrying a sign-in link: a receipt sent in the background after a
    // payment's answer may land after the sign-in mail.
    const mails = await readOutbox(runtime.deps.db, { to: email, limit: 5 });
    const link = mails
      .map((m) => /\/auth\/callback\?token=[\w-]+/.exec(m.text)?.[0])
      .find((found) => found !== undefined);
    if (!link) throw new Error("no sign-in link in the mail");
    const res = await request(link);
    const cookie = res.headers.get("set-cookie")?.split(";")[0];
    if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
    return cookie;
  }

  async function createProduct(input: Record<string, unknown> = {}) {
    const res = await admin("/api/admin/products", {
      method: "POST",
      json: {
        slug: `kit-${Math.random().toString(36).slice(2, 8)}`,
        name: "Kit",
        price: { amount: 1900, currency: "usd" },
        ...input,
      },
    });
    if (res.status !== 201)
      throw new Error(`create product failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; slug: string; name: string };
  }

  /** A product on sale: created, with one small file (a product without files is not on sale). */
  async function productOnSale(input: Record<string, unknown> = {}) {
    const product = await createProduct(input);
    await upload(product.slug, "readme.txt", "read me");
    return product;
  }

  async function upload(
    slug: string,
    filename: string,
    bytes: Uint8Array<ArrayBuffer> | string,
    contentType?: string,
  ) {
    const res = await admin(
      `/api/admin/products/${slug}/assets?filename=${encodeURIComponent(filename)}`,
      {
        method: "POST",
        body: typeof bytes === "string" ? bytes : new Blob([bytes]),
        ...(contentType ? { headers: { "content-type": contentType } } : {}),
      },
    );
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as {
      id: string;
      filename: string;
      size: number;
      sha256: string;
      version: number;
    };
  }

  async function grant(email: string, product: string) {
    const res = await admin("/api/admin/grants", { method: "POST", json: { email, product } });
    if (res.status !== 201) throw new Error(`grant failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; status: string };
  }

  async function token(body: Record<string, unknown>) {
    const res = await admin("/api/admin/tokens", { method: "POST", json: body });
    if (res.status !== 201) throw new Error(`token failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as { token: string; url: string; expiresAt: string };
  }

  /** A product with one file, granted to `email`. */
  async function ownedProduct(email: string, content = "hello, buyer") {
    const product = await createProduct();
    const asset = await upload(product.slug, "kit.zip", content);
    await grant(email, product.slug);
    return { product, asset };
  }

  return {
    runtime,
    config,
    deps: runtime.deps,
    ctx: runtime.systemCtx,
    clock,
    request,
    admin,
    lastMailTo,
    signIn,
    createProduct,
    productOnSale,
    upload,
    grant,
    token,
    ownedProduct,
    async close() {
      await new Promise((done) => (server ? server.close(done) : done(undefined)));
      await runtime.close();
      await database.drop();
    },
  };
}
