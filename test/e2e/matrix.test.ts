import { createHash } from "node:crypto";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { type S3TestServer, startS3Server } from "../support/s3-server.ts";
import { payOnHostedPage, signature } from "../support/stripe.ts";
import { startSupabaseAuth } from "../support/supabase-server.ts";

type Supabase = Awaited<ReturnType<typeof startSupabaseAuth>>;

const storages = ["local", "s3"] as const;
const logins = ["builtin", "supabase"] as const;
const matrix = dialects.flatMap((db) =>
  storages.flatMap((storage) => logins.map((login) => [db, storage, login] as const)),
);

/**
 * DESIGN section 2's promise: the same purchase-to-download journey in every shape, {SQLite,
 * Postgres} x {local files, S3} x {built-in, Supabase} login, through real servers of each protocol.
 */
describe.each(matrix)(
  "purchase to download on %s, %s storage, %s login",
  (dialect, storage, login) => {
    let h: Harness;
    let s3: S3TestServer | null = null;
    let supabase: Supabase | null = null;
    let stripe: Stripe;

    beforeAll(async () => {
      const env: Record<string, string> = {};
      if (storage === "s3") {
        s3 = await startS3Server({ region: "auto" });
        Object.assign(env, {
          STORAGE_URL: "s3://bucket",
          S3_ENDPOINT: s3.url,
          S3_REGION: "auto",
          S3_ACCESS_KEY_ID: s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        });
      }
      if (login === "supabase") {
        supabase = await startSupabaseAuth();
        Object.assign(env, {
          AUTH: "supabase",
          SUPABASE_URL: supabase.url,
          SUPABASE_ANON_KEY: supabase.anonKey,
        });
      }
      h = await makeHarness(dialect, env, { stripe: "manual" });
      const url = new URL(h.runtime.localStripeUrl as string);
      stripe = new Stripe("sk_test_local", {
        host: url.hostname,
        port: url.port,
        protocol: "http",
      });
    });
    afterAll(async () => {
      await h.close();
      await s3?.close();
      await supabase?.close();
    });

    /** How a buyer proves who they are in this shape: the session cookie, or a Supabase token. */
    async function credentials(email: string): Promise<RequestInit & { cookie?: string }> {
      if (supabase)
        return { headers: { authorization: `Bearer ${await supabase.token({ email })}` } };
      return { cookie: await h.signIn(email) };
    }

    it("buy, webhook, library, download: the bytes match", async () => {
      const product = await h.createProduct({ name: "Matrix Kit" });
      const content = `matrix ${dialect} ${storage} ${login} `.repeat(2000);
      const asset = await h.upload(product.slug, "matrix.zip", content);
      const started = await (
        await h.request(`/checkout/${product.slug}`, {
          method: "POST",
          headers: { accept: "application/json" },
        })
      ).json();
      expect((await payOnHostedPage(started.url, { email: "matrix@example.com" })).status).toBe(
        303,
      );
      const [completed] = await stripe.events
        .list({ type: "checkout.session.completed", limit: 100 })
        .autoPagingToArray({ limit: 100 })
        .then((events) =>
          events.filter((e) => (e.data.object as { id: string }).id === started.sessionId),
        );
      const body = JSON.stringify(completed);
      const delivered = await h.request("/webhooks/stripe", {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature(body) },
        body,
      });
      expect(delivered.status).toBe(200);

      const who = await credentials("matrix@example.com");
      const library = await (await h.request("/api/library", who)).json();
      expect(library.items.map((i: { product: { slug: string } }) => i.product.slug)).toEqual([
        product.slug,
      ]);
      const res = await h.request(`/download/${product.slug}/${asset.id}`, who);
      let bytes: ArrayBuffer;
      if (storage === "s3") {
        expect(res.status).toBe(302);
        const signed = res.headers.get("location") as string;
        expect(signed.startsWith(`${s3?.url}/bucket/`)).toBe(true);
        const file = await fetch(signed);
        expect(file.status).toBe(200);
        expect(file.headers.get("content-disposition")).toContain("matrix.zip");
        bytes = await file.arrayBuffer();
      } else {
        expect(res.status).toBe(200);
        bytes = await res.arrayBuffer();
      }
      expect(createHash("sha256").update(new Uint8Array(bytes)).digest("hex")).toBe(asset.sha256);

      const stranger = await credentials("stranger@example.com");
      expect((await h.request(`/download/${product.slug}/${asset.id}`, stranger)).status).toBe(403);
    });
  },
);
