/**
 * Sets a running bench server up the way a seller and a buyer would, over HTTP: products, files,
 * grants, a signed-in session, token links, and paid checkouts on the local Stripe.
 */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import Stripe from "stripe";

export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

export class Shop {
  constructor(readonly url: string) {}

  async call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    return fetch(`${this.url}${path}`, { ...init, headers, body: body ?? null });
  }

  async expect<T>(path: string, status: number, init: RequestInit & { json?: unknown } = {}) {
    const res = await this.call(path, init);
    if (res.status !== status)
      throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  product(slug: string, price = 1900) {
    return this.expect<{ id: string; slug: string }>("/api/admin/products", 201, {
      method: "POST",
      json: { slug, name: `Bench ${slug}`, price: { amount: price, currency: "usd" } },
    });
  }

  /** Uploads bytes, or a file from disk streamed as it is read. */
  upload(slug: string, filename: string, content: string | { file: string }) {
    const body =
      typeof content === "string"
        ? content
        : (Readable.toWeb(
            createReadStream(content.file, { highWaterMark: 1 << 20 }),
          ) as ReadableStream<Uint8Array>);
    return this.expect<{ id: string; size: number }>(
      `/api/admin/products/${slug}/assets?filename=${encodeURIComponent(filename)}`,
      201,
      { method: "POST", body, duplex: "half" } as RequestInit,
    );
  }

  grant(email: string, product: string) {
    return this.expect("/api/admin/grants", 201, { method: "POST", json: { email, product } });
  }

  async token(email: string, product: string): Promise<string> {
    const created = await this.expect<{ token: string }>("/api/admin/tokens", 201, {
      method: "POST",
      json: { email, product, expiresIn: "24h", maxUses: null },
    });
    return created.token;
  }

  /** Signs in by the emailed link, read from the outbox; returns the session cookie. */
  async signIn(email: string): Promise<string> {
    await this.expect("/auth/login", 202, {
      method: "POST",
      json: { email },
      headers: { authorization: "" },
    });
    const { messages } = await this.expect<{ messages: { text: string }[] }>(
      `/api/admin/outbox?to=${encodeURIComponent(email)}`,
      200,
    );
    const link = /\/auth\/callback\?token=[\w-]+/.exec(messages[0]?.text ?? "")?.[0];
    if (!link) throw new Error("no sign-in link in the outbox");
    const res = await fetch(`${this.url}${link}`, { redirect: "manual" });
    const cookie = res.headers.get("set-cookie")?.split(";")[0];
    if (!cookie) throw new Error(`sign-in failed: ${res.status}`);
    return cookie;
  }

  /**
   * Starts `count` checkouts of `slug` and pays each on the local Stripe's hosted page, a few at
   * a time; returns the checkout.session.completed events Stripe would deliver, oldest first.
   */
  async paidCheckouts(slug: string, count: number, stripeUrl: string): Promise<Stripe.Event[]> {
    let started = 0;
    const worker = async () => {
      while (started < count) {
        started++;
        // As the operator (admin token): one client starting thousands of checkouts is what the
        // per-client checkout limit stops, and the operator's own scripts are exempt from it.
        const { url } = await this.expect<{ url: string }>(`/checkout/${slug}`, 201, {
          method: "POST",
          headers: { accept: "application/json" },
        });
        const paid = await fetch(url, {
          method: "POST",
          body: new URLSearchParams({
            method: "card",
            card_number: "4242 4242 4242 4242",
            email: `buyer-${started}@bench.test`,
          }),
          redirect: "manual",
        });
        if (paid.status !== 303) throw new Error(`payment failed: ${paid.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const api = new URL(stripeUrl);
    const stripe = new Stripe("sk_test_local", {
      host: api.hostname,
      port: api.port,
      protocol: "http",
    });
    const events = await stripe.events
      .list({ type: "checkout.session.completed", limit: 100 })
      .autoPagingToArray({ limit: 10_000 });
    return events.reverse();
  }
}
