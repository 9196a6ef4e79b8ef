import { signature } from "./stripe.ts";

/**
 * What tests do to a real server process over HTTP: the seller's admin API (with the admin
 * token), a buyer's checkout and sign-in, and signed Stripe events.
 */
export function shopClient(baseUrl: string, adminToken: string) {
  const admin = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${adminToken}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    return fetch(`${baseUrl}${path}`, { ...init, headers, body: body ?? null });
  };
  const expectStatus = async (res: Response, status: number, what: string) => {
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  return {
    admin,

    async createProduct(slug: string, input: Record<string, unknown> = {}) {
      const res = await admin("/api/admin/products", {
        method: "POST",
        json: { slug, name: `Kit ${slug}`, price: { amount: 1900, currency: "usd" }, ...input },
      });
      return (await expectStatus(res, 201, "create product")) as { id: string; slug: string };
    },

    async upload(slug: string, filename: string, body: string | Uint8Array<ArrayBuffer>) {
      const res = await admin(
        `/api/admin/products/${slug}/assets?filename=${encodeURIComponent(filename)}`,
        { method: "POST", body: typeof body === "string" ? body : new Blob([body]) },
      );
      return (await expectStatus(res, 201, "upload")) as { id: string; size: number };
    },

    async grant(email: string, product: string) {
      const res = await admin("/api/admin/grants", { method: "POST", json: { email, product } });
      return (await expectStatus(res, 201, "grant")) as { id: string };
    },

    async token(body: Record<string, unknown>) {
      const res = await admin("/api/admin/tokens", { method: "POST", json: body });
      return (await expectStatus(res, 201, "token")) as { token: string; url: string };
    },

    /**
     * A Buy button with no buyer signed in: the order is recorded and a Checkout Session made.
     * Sent with the admin token, as the operator's scripts are not held to the per-client
     * checkout limit (tests buy hundreds of times from this one machine); the order is a guest's.
     */
    async startCheckout(slug: string) {
      const res = await fetch(`${baseUrl}/checkout/${slug}`, {
        method: "POST",
        headers: { accept: "application/json", authorization: `Bearer ${adminToken}` },
      });
      return (await expectStatus(res, 201, "checkout")) as {
        url: string;
        sessionId: string;
        orderId: string;
      };
    },

    /** Signs in as a person does, reading the link from the outbox; returns the cookie. */
    async signIn(email: string): Promise<string> {
      const asked = await fetch(`${baseUrl}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email }),
      });
      await expectStatus(asked, 202, "sign-in request");
      const outbox = await admin(`/api/admin/outbox?to=${encodeURIComponent(email)}&limit=1`);
      const { messages } = (await outbox.json()) as { messages: { text: string }[] };
      const link = /\/auth\/callback\?token=[\w-]+/.exec(messages[0]?.text ?? "")?.[0];
      if (!link) throw new Error(`no sign-in link for ${email}`);
      const res = await fetch(`${baseUrl}${link}`, { redirect: "manual" });
      const cookie = res.headers.get("set-cookie")?.split(";")[0];
      await res.arrayBuffer();
      if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
      return cookie;
    },

    /** POSTs an event's exact JSON to the webhook endpoint, signed now as Stripe would. */
    postEvent(body: string) {
      return fetch(`${baseUrl}/webhooks/stripe`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature(body) },
        body,
      });
    },
  };
}

export type ShopClient = ReturnType<typeof shopClient>;

/** Runs `fn` over the items, at most `limit` at a time; results in the items' order. */
export async function inBatches<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return results;
}
